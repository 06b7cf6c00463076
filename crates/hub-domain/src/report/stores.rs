//! The store report: every store's followers and views at both ends of a range, their growth
//! and engagement.

use super::rules::{DateRange, delta, engagement, growth_pct};
use crate::error::DomainError;
use crate::group::StoreGroup;
use crate::store::StoreCode;

/// Sort keys of the store report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreSort {
    Followers,
    FollowerGrowth,
    Views,
    ViewGrowth,
    Engagement,
}

impl StoreSort {
    pub const ALL: [Self; 5] = [Self::Followers, Self::FollowerGrowth, Self::Views, Self::ViewGrowth, Self::Engagement];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Followers => "followers",
            Self::FollowerGrowth => "follower_growth",
            Self::Views => "views",
            Self::ViewGrowth => "view_growth",
            Self::Engagement => "engagement",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw).ok_or(DomainError::invalid(
            "sort",
            "must be one of followers, follower_growth, views, view_growth, engagement",
        ))
    }
}

/// Ascending or descending; nulls always come last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortOrder {
    Asc,
    Desc,
}

impl SortOrder {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(DomainError::invalid("order", "must be asc or desc")),
        }
    }
}

/// Which page of the store report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreReportQuery {
    pub range: DateRange,
    pub sort: StoreSort,
    pub order: SortOrder,
    pub limit: i64,
    pub offset: i64,
}

/// A store's numbers at the two ends of a range, as stored (the repository's row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEnds {
    pub store_code: StoreCode,
    pub store_name: String,
    pub store_group: Option<StoreGroup>,
    /// `None`: no user snapshot that day.
    pub followers_from: Option<i64>,
    pub followers_to: Option<i64>,
    /// `None`: no video snapshot that day.
    pub views_from: Option<i64>,
    pub views_to: Option<i64>,
    /// likes + comments + shares over the store's videos at `to`.
    pub interactions_to: Option<i64>,
}

/// One row of the store report.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreReportRow {
    pub store_code: StoreCode,
    pub store_name: String,
    pub store_group: Option<StoreGroup>,
    pub followers_from: Option<i64>,
    pub followers_to: Option<i64>,
    pub follower_growth: Option<i64>,
    pub follower_growth_pct: Option<f64>,
    pub views_from: Option<i64>,
    pub views_to: Option<i64>,
    pub view_growth: Option<i64>,
    pub view_growth_pct: Option<f64>,
    pub engagement: Option<f64>,
    /// No user snapshot at `from`.
    pub missing_from: bool,
    /// No user snapshot at `to`.
    pub missing_to: bool,
}

impl From<StoreEnds> for StoreReportRow {
    fn from(e: StoreEnds) -> Self {
        Self {
            follower_growth: delta(e.followers_to, e.followers_from),
            follower_growth_pct: growth_pct(e.followers_from, e.followers_to),
            view_growth: delta(e.views_to, e.views_from),
            view_growth_pct: growth_pct(e.views_from, e.views_to),
            engagement: engagement(e.interactions_to, e.views_to),
            missing_from: e.followers_from.is_none(),
            missing_to: e.followers_to.is_none(),
            store_code: e.store_code,
            store_name: e.store_name,
            store_group: e.store_group,
            followers_from: e.followers_from,
            followers_to: e.followers_to,
            views_from: e.views_from,
            views_to: e.views_to,
        }
    }
}

/// A page of the store report and the number of rows in all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreReportPage {
    pub range: DateRange,
    pub rows: Vec<StoreReportRow>,
    pub total: i64,
}
