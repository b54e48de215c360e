//! The plan JSON the public site publishes (`data/plans/{id}.json`,
//! `data/zip/{zip}.json`) and the API returns as `current_plan`: one model so
//! the two can never drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

/// An amount of US dollars, held in cents so it is exact, and written to JSON
/// as a number with exactly two decimals (`12.50`, not `12.5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
#[serde(from = "f64")]
pub struct Money(pub i64);

impl Money {
    /// The amount in cents.
    pub fn cents(self) -> i64 {
        self.0
    }
}

impl From<f64> for Money {
    fn from(dollars: f64) -> Self {
        Money((dollars * 100.0).round() as i64)
    }
}

impl std::fmt::Display for Money {
    /// `1234.50`; the sign goes before the dollars.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // A raw JSON number keeps the trailing zero that f64 would drop.
        let raw = serde_json::value::RawValue::from_string(self.to_string())
            .map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// A plan as listed in a zip's search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSummary {
    /// CMS-style identifier, e.g. `S5601-012-0`.
    pub plan_id: String,
    /// Marketing name.
    pub plan_name: String,
    /// The carrier.
    pub insurer_name: String,
    /// Monthly premium.
    pub avg_monthly_cost: Money,
    /// Typical copay per prescription.
    pub avg_copay_amount: Money,
    /// Yearly deductible.
    pub annual_deductible: Money,
    /// Youngest eligible age, if limited.
    pub min_age: Option<i32>,
    /// Oldest eligible age, if limited.
    pub max_age: Option<i32>,
    /// Feature key to value, sorted by key.
    pub features: BTreeMap<String, String>,
}

impl PlanSummary {
    /// What a year costs before drugs and copays: 12 × premium +
    /// deductible ([`crate::rules::yearly_cost`]).
    pub fn estimated_yearly_cost(&self) -> Money {
        crate::rules::yearly_cost::yearly_cost(self.avg_monthly_cost, self.annual_deductible)
    }
}

/// A plan with everything the plan page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// Everything a search result shows.
    #[serde(flatten)]
    pub summary: PlanSummary,
    /// Free text from the carrier.
    pub description: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Plan {
        Plan {
            summary: PlanSummary {
                plan_id: "S5601-012-0".into(),
                plan_name: "Basic <Rx> & \"more\"".into(),
                insurer_name: "Acme".into(),
                avg_monthly_cost: Money(1250),
                avg_copay_amount: Money(700),
                annual_deductible: Money(0),
                min_age: Some(65),
                max_age: None,
                features: BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]),
            },
            description: "d".into(),
        }
    }

    #[test]
    fn money_keeps_two_decimals() {
        assert_eq!(Money(1250).to_string(), "12.50");
        assert_eq!(Money(5).to_string(), "0.05");
        assert_eq!(Money(-105).to_string(), "-1.05");
        assert_eq!(serde_json::to_string(&Money(100)).unwrap(), "1.00");
    }

    #[test]
    fn plan_json_has_the_contract_shape() {
        let json = serde_json::to_string(&sample()).unwrap();
        assert_eq!(
            json,
            r#"{"plan_id":"S5601-012-0","plan_name":"Basic <Rx> & \"more\"","insurer_name":"Acme","avg_monthly_cost":12.50,"avg_copay_amount":7.00,"annual_deductible":0.00,"min_age":65,"max_age":null,"features":{"a":"1","b":"2"},"description":"d"}"#
        );
        let back: Plan = serde_json::from_str(&json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn yearly_cost_is_twelve_premiums_plus_deductible() {
        let mut p = sample().summary;
        p.annual_deductible = Money(50000);
        assert_eq!(p.estimated_yearly_cost(), Money(1250 * 12 + 50000));
    }
}
