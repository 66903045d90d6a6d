//! CT-6: persons linked to an organization take the organization type's flow-down type.
//! Only "followers" move: persons whose type is a flow-down type or the default person type
//! and who hold no membership of their own (no primary fee).

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use entity::contact as c;
use entity::customer_type as ct;

use crate::error::Result;
use crate::{customer_types, history, settings};

#[derive(Debug, Clone, Default)]
pub struct FlowDown {
    types: HashMap<String, ct::Model>,
    followers: HashSet<String>,
    default_person_type: Option<String>,
}

/// The person types that follow their organization (pure, for tests).
pub fn follower_types(types: &[ct::Model], default_person_type: Option<&str>) -> HashSet<String> {
    let flow_targets: HashSet<&str> = types
        .iter()
        .filter_map(|t| t.flow_down_type.as_deref())
        .collect();
    types
        .iter()
        .filter(|t| !t.is_organization && t.primary_fee_kind == "none")
        .filter(|t| {
            flow_targets.contains(t.code.as_str()) || Some(t.code.as_str()) == default_person_type
        })
        .map(|t| t.code.clone())
        .collect()
}

impl FlowDown {
    pub fn new(types: Vec<ct::Model>, default_person_type: Option<String>) -> Self {
        let followers = follower_types(&types, default_person_type.as_deref());
        FlowDown {
            types: types.into_iter().map(|t| (t.code.clone(), t)).collect(),
            followers,
            default_person_type,
        }
    }

    pub async fn load(conn: &impl ConnectionTrait) -> Result<Self> {
        let types = customer_types::all(conn).await?;
        let st = settings::get(conn).await?;
        Ok(Self::new(types, st.default_person_type))
    }

    /// Every person type that follows its organization.
    pub fn follower_codes(&self) -> Vec<String> {
        let mut codes: Vec<String> = self.followers.iter().cloned().collect();
        codes.sort();
        codes
    }

    pub fn is_organization_type(&self, code: &str) -> bool {
        self.types.get(code).is_some_and(|t| t.is_organization)
    }

    pub fn is_follower(&self, person_type: &str) -> bool {
        self.followers.contains(person_type)
    }

    /// The type a follower takes when linked to an organization of `org_type` (or unlinked).
    pub fn person_type_for(&self, org_type: Option<&str>) -> Option<String> {
        org_type
            .and_then(|code| self.types.get(code))
            .and_then(|t| t.flow_down_type.clone())
            .or_else(|| self.default_person_type.clone())
    }

    /// The type a person should have after linking; `None` means no change.
    pub fn linked_type(&self, person_type: &str, org_type: Option<&str>) -> Option<String> {
        if !self.is_follower(person_type) {
            return None;
        }
        self.person_type_for(org_type).filter(|t| t != person_type)
    }

    /// Moves every follower linked to `org_id` to the flow-down type of `org_type`, with
    /// history, in set-based statements (inside the caller's transaction). Returns who moved,
    /// from which type, and the history rows written, so that the move can be undone (M-2).
    pub async fn apply_to_linked(
        &self,
        conn: &impl ConnectionTrait,
        org_id: i64,
        org_type: &str,
        at: DateTime<Utc>,
    ) -> Result<Moved> {
        let Some(target) = self.person_type_for(Some(org_type)) else {
            return Ok(Moved::default());
        };
        let from: Vec<String> = self
            .followers
            .iter()
            .filter(|t| **t != target)
            .cloned()
            .collect();
        if from.is_empty() {
            return Ok(Moved::default());
        }
        let linked = c::Entity::find()
            .select_only()
            .column(c::Column::Id)
            .column(c::Column::CustomerType)
            .filter(c::Column::CompanyId.eq(org_id))
            .filter(c::Column::CustomerType.is_in(from.clone()))
            .into_tuple::<(i64, String)>()
            .all(conn)
            .await?;
        if linked.is_empty() {
            return Ok(Moved::default());
        }
        let history = history::record_linked_type_changes(conn, org_id, &from, &target, at).await?;
        c::Entity::update_many()
            .col_expr(c::Column::CustomerType, Expr::val(target.as_str()))
            .col_expr(c::Column::Version, Expr::col(c::Column::Version).add(1))
            .col_expr(c::Column::UpdatedAt, Expr::val(at))
            .filter(c::Column::CompanyId.eq(org_id))
            .filter(c::Column::CustomerType.is_in(from))
            .exec(conn)
            .await?;
        Ok(Moved {
            before: linked,
            to: target,
            history,
        })
    }
}

/// Linked persons moved by a flow-down (CT-6): each with its type before, the type they took,
/// and the history rows that record it.
#[derive(Debug, Clone, Default)]
pub struct Moved {
    pub before: Vec<(i64, String)>,
    pub to: String,
    pub history: Vec<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(code: &str, member: bool, org: bool, fee: &str, flow: Option<&str>) -> ct::Model {
        let now = chrono::Utc::now();
        ct::Model {
            code: code.into(),
            name: code.into(),
            is_member: member,
            is_organization: org,
            primary_fee_kind: fee.into(),
            formula_designator: None,
            formula_default_product: None,
            expires_to: None,
            renews_as: None,
            flow_down_type: flow.map(Into::into),
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn e2() -> FlowDown {
        FlowDown::new(
            vec![
                t("M", true, true, "products", Some("MIND")),
                t("NM", false, true, "none", Some("NMIND")),
                t("MIND", true, false, "none", None),
                t("NMIND", false, false, "none", None),
                t("P", true, false, "products", None),
            ],
            Some("NMIND".into()),
        )
    }

    #[test]
    fn ct6_linked_followers_take_the_organizations_flow_down_type() {
        let fd = e2();
        assert_eq!(fd.linked_type("NMIND", Some("M")).as_deref(), Some("MIND"));
        assert_eq!(fd.linked_type("MIND", Some("NM")).as_deref(), Some("NMIND"));
        // Unlinking falls back to the default person type.
        assert_eq!(fd.linked_type("MIND", None).as_deref(), Some("NMIND"));
        // Already right: no change.
        assert_eq!(fd.linked_type("MIND", Some("M")), None);
    }

    #[test]
    fn ct6_flow_down_never_touches_a_person_with_a_membership_of_their_own() {
        let fd = e2();
        assert!(!fd.is_follower("P"));
        assert_eq!(fd.linked_type("P", Some("M")), None);
        assert_eq!(fd.linked_type("P", None), None);
    }
}
