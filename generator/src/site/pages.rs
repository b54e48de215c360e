//! One askama template struct per kind of page. Every value from the database
//! reaches the HTML through askama's escaping; the only unescaped insert is
//! [`PlanCards`], which holds HTML askama itself rendered.

use std::fmt;

use askama::Template;
use whatever_database::{Money, Plan, PlanSummary};

use super::assets::AssetUrls;
use super::format::{Dollars, eligible_ages, feature_label, feature_value};

/// `index.html`.
#[derive(Template)]
#[template(path = "index.html")]
pub struct HomePage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `404.html`.
#[derive(Template)]
#[template(path = "404.html")]
pub struct NotFoundPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `signin/index.html`.
#[derive(Template)]
#[template(path = "signin.html")]
pub struct SignInPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `my-plan/index.html`.
#[derive(Template)]
#[template(path = "my_plan.html")]
pub struct MyPlanPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// `compare/index.html`.
#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
}

/// A plan's costs as they read on a page.
pub struct Costs {
    /// Monthly premium.
    pub premium: Dollars,
    /// Annual deductible.
    pub deductible: Dollars,
    /// Copay.
    pub copay: Dollars,
    /// 12 × premium + deductible.
    pub yearly: Dollars,
    /// Who may join.
    pub ages: String,
}

impl Costs {
    /// The costs of one plan.
    pub fn of(plan: &PlanSummary) -> Self {
        Self {
            premium: Dollars(plan.avg_monthly_cost),
            deductible: Dollars(plan.annual_deductible),
            copay: Dollars(plan.avg_copay_amount),
            yearly: Dollars(plan.estimated_yearly_cost()),
            ages: eligible_ages(plan.min_age, plan.max_age),
        }
    }
}

/// One feature, labelled for reading.
pub struct Feature<'a> {
    /// "Mail order pharmacy".
    pub label: String,
    /// The value, booleans as Yes/No.
    pub value: &'a str,
}

/// Every feature of a plan, sorted by key.
pub fn features(plan: &PlanSummary) -> Vec<Feature<'_>> {
    plan.features
        .iter()
        .map(|(key, value)| Feature {
            label: feature_label(key),
            value: feature_value(value),
        })
        .collect()
}

/// One plan in a zip's list: rendered once per plan, reused on every zip page
/// that lists it.
#[derive(Template)]
#[template(path = "plan_card.html")]
pub struct PlanCard<'a> {
    /// The plan.
    pub plan: &'a PlanSummary,
    /// Its costs.
    pub costs: Costs,
    /// Its features.
    pub features: Vec<Feature<'a>>,
}

impl<'a> PlanCard<'a> {
    /// The card of one plan.
    pub fn new(plan: &'a PlanSummary) -> Self {
        Self {
            plan,
            costs: Costs::of(plan),
            features: features(plan),
        }
    }
}

/// Pre-rendered plan cards written in a given order.
pub struct PlanCards<'a> {
    /// Card HTML of every plan, by plan index.
    pub cards: &'a [String],
    /// Which cards to write, in order.
    pub order: &'a [u32],
}

impl fmt::Display for PlanCards<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &i in self.order {
            f.write_str(&self.cards[i as usize])?;
        }
        Ok(())
    }
}

// The cards are askama output, escaped when they were rendered; escaping them
// again would show the markup as text.
impl askama::filters::HtmlSafe for PlanCards<'_> {}

/// `zip/{zip}/index.html`.
#[derive(Template)]
#[template(path = "zip.html")]
pub struct ZipPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// Five digits.
    pub zip: &'a str,
    /// "24 plans".
    pub count: String,
    /// The plans, cheapest estimated yearly cost first.
    pub cards: PlanCards<'a>,
}

/// `plans/{plan_id}/index.html`.
#[derive(Template)]
#[template(path = "plan.html")]
pub struct PlanPage<'a> {
    /// Hashed asset URLs.
    pub assets: &'a AssetUrls,
    /// The plan.
    pub plan: &'a Plan,
    /// Its costs.
    pub costs: Costs,
    /// Its features.
    pub features: Vec<Feature<'a>>,
    /// Where "Enroll in this plan" goes.
    pub enroll_url: String,
    /// Options of the mail form's state list.
    pub states: &'static [(&'static str, &'static str)],
}

/// The default order of a zip's list: lowest estimated yearly cost, then plan id.
pub fn yearly_cost_key(plan: &PlanSummary) -> (Money, &str) {
    (plan.estimated_yearly_cost(), plan.plan_id.as_str())
}

/// The places a mailing address can be in, for the mail form.
pub use whatever_database::rules::states::STATES;
