//! `?page=&per_page=` on list endpoints: 1-based pages of at most
//! [`MAX_PER_PAGE`] items.

use serde::Deserialize;
use utoipa::IntoParams;

use super::error::ApiError;
use crate::store::Page;

/// Largest page a client can ask for.
pub const MAX_PER_PAGE: u32 = 200;

/// The paging part of a list's query string.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    pub page: Option<u32>,
    /// Items per page (default 50, at most 200).
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// The store's page; 0 or an oversized `per_page` is a 400.
    pub fn page(self) -> Result<Page, ApiError> {
        let default = Page::default();
        let page = self.page.unwrap_or(default.page);
        let per_page = self.per_page.unwrap_or(default.per_page);
        if page == 0 {
            return Err(ApiError::BadRequest("page starts at 1".into()));
        }
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ApiError::BadRequest(format!(
                "per_page must be between 1 and {MAX_PER_PAGE}"
            )));
        }
        Ok(Page { page, per_page })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(PageQuery::default().page().unwrap(), Page::default());
        let q = |page, per_page| PageQuery { page, per_page }.page();
        assert_eq!(
            q(Some(3), Some(200)).unwrap(),
            Page {
                page: 3,
                per_page: 200
            }
        );
        assert!(q(Some(0), None).is_err());
        assert!(q(None, Some(0)).is_err());
        assert!(q(None, Some(201)).is_err());
    }
}
