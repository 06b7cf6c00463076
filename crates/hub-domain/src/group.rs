//! Store groups (a region, for example) and the store scope of a person or key: every store,
//! or the stores of some groups.

use std::fmt;

use crate::error::DomainError;

/// A store group's name: 1–50 ASCII letters, digits, `_` or `-` (the grammar of a store code).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreGroup(String);

impl StoreGroup {
    /// The longest name accepted.
    pub const MAX_LEN: usize = 50;
    const EXPECTED: &'static str = "must be 1-50 alphanumeric characters with underscores or hyphens";

    /// Parses a group name (`field` names it in the error: `store_group`, `store_groups`).
    pub fn parse_field(raw: &str, field: &'static str) -> Result<Self, DomainError> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(DomainError::invalid(field, Self::EXPECTED)) }
    }

    /// Parses a store's group (`store_group`).
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::parse_field(raw, "store_group")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StoreGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which stores a person or key may see and act on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StoreScope {
    /// Every store (unscoped).
    #[default]
    All,
    /// Only the stores whose group is one of these (sorted, no repeats). A store without a
    /// group is in no group's scope. An empty list sees no store.
    Groups(Vec<StoreGroup>),
}

impl StoreScope {
    /// The scope of these groups (sorted and deduplicated).
    pub fn groups(mut groups: Vec<StoreGroup>) -> Self {
        groups.sort();
        groups.dedup();
        Self::Groups(groups)
    }

    /// This scope narrowed to one group: that group when the scope covers it, else no store.
    pub fn within(&self, group: &StoreGroup) -> Self {
        match self {
            Self::Groups(gs) if !gs.contains(group) => Self::Groups(Vec::new()),
            _ => Self::Groups(vec![group.clone()]),
        }
    }

    /// Parses the comma-separated form stored in the database (`None`: every store).
    pub fn from_stored(raw: Option<&str>) -> Result<Self, DomainError> {
        match raw {
            None => Ok(Self::All),
            Some(list) => Ok(Self::groups(
                list.split(',')
                    .filter(|g| !g.is_empty())
                    .map(|g| StoreGroup::parse_field(g, "store_groups"))
                    .collect::<Result<_, _>>()?,
            )),
        }
    }

    /// The comma-separated form stored in the database (`None`: every store).
    pub fn to_stored(&self) -> Option<String> {
        self.names().map(|names| names.join(","))
    }

    /// Every store.
    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }

    /// The group names a query filters on; `None` for every store (no filter).
    pub fn names(&self) -> Option<Vec<&str>> {
        match self {
            Self::All => None,
            Self::Groups(g) => Some(g.iter().map(StoreGroup::as_str).collect()),
        }
    }

    /// Whether a store in `group` (`None`: no group) is in this scope.
    pub fn allows(&self, group: Option<&StoreGroup>) -> bool {
        match self {
            Self::All => true,
            Self::Groups(g) => group.is_some_and(|group| g.contains(group)),
        }
    }

    /// Whether every store `other` covers is covered by `self` too (`other` ⊆ `self`).
    pub fn covers(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::All, _) => true,
            (Self::Groups(_), Self::All) => false,
            (Self::Groups(mine), Self::Groups(theirs)) => theirs.iter().all(|g| mine.contains(g)),
        }
    }

    /// The stores both scopes cover.
    pub fn intersect(&self, other: &Self) -> Self {
        match (self, other) {
            (Self::All, o) | (o, Self::All) => o.clone(),
            (Self::Groups(a), Self::Groups(b)) => Self::Groups(a.iter().filter(|g| b.contains(g)).cloned().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowing_a_scope_to_a_group_never_widens_it() {
        let g = |n: &str| StoreGroup::parse(n).unwrap();
        assert_eq!(StoreScope::All.within(&g("north")), StoreScope::Groups(vec![g("north")]));
        let scoped = StoreScope::groups(vec![g("north"), g("south")]);
        assert_eq!(scoped.within(&g("south")), StoreScope::Groups(vec![g("south")]));
        assert_eq!(scoped.within(&g("west")), StoreScope::Groups(vec![]));
        assert_eq!(StoreScope::Groups(vec![]).within(&g("north")), StoreScope::Groups(vec![]));
    }
    use proptest::prelude::*;

    fn scope(names: &[&str]) -> StoreScope {
        StoreScope::groups(names.iter().map(|n| StoreGroup::parse(n).unwrap()).collect())
    }

    #[test]
    fn scope_rules() {
        let north = StoreGroup::parse("north").unwrap();
        let south = StoreGroup::parse("south").unwrap();
        assert!(StoreScope::All.allows(None) && StoreScope::All.allows(Some(&north)));
        assert!(scope(&["north"]).allows(Some(&north)));
        assert!(!scope(&["north"]).allows(Some(&south)));
        assert!(!scope(&["north"]).allows(None), "a store without a group is outside every group");
        assert!(StoreScope::All.covers(&scope(&["north"])));
        assert!(!scope(&["north"]).covers(&StoreScope::All));
        assert!(scope(&["north", "south"]).covers(&scope(&["south"])));
        assert!(!scope(&["north"]).covers(&scope(&["north", "south"])));
        assert_eq!(scope(&["north", "south"]).intersect(&scope(&["south", "east"])), scope(&["south"]));
        assert_eq!(StoreScope::All.intersect(&scope(&["east"])), scope(&["east"]));
        assert_eq!(scope(&["b", "a", "b"]), scope(&["a", "b"]));
        assert_eq!(StoreGroup::parse("no way").unwrap_err().field(), "store_group");
    }

    #[test]
    fn stored_form_round_trips() {
        for s in [StoreScope::All, scope(&["north"]), scope(&["a", "b-2", "c_3"]), scope(&[])] {
            assert_eq!(StoreScope::from_stored(s.to_stored().as_deref()).unwrap(), s);
        }
        assert!(StoreScope::from_stored(Some("ok,not ok")).is_err());
    }

    proptest! {
        #[test]
        fn intersection_is_covered_by_both(a in proptest::collection::vec("[a-d]", 0..4), b in proptest::collection::vec("[a-d]", 0..4)) {
            let (a, b) = (scope(&a.iter().map(String::as_str).collect::<Vec<_>>()), scope(&b.iter().map(String::as_str).collect::<Vec<_>>()));
            let i = a.intersect(&b);
            prop_assert!(a.covers(&i) && b.covers(&i));
        }
    }
}
