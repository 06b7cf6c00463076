DROP TABLE shared_failures;
