//! A drug as the database holds it: one row of `drug` and its reference
//! prices (`drug_price`). The seed generates these, the build reads them
//! back and publishes them, and the estimate prices fills with them.

use serde::Serialize;

use super::estimate::DaysSupply;
use super::money::Cents;

/// One row of `drug`, with its prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Drug {
    /// Its id (digits).
    pub rxcui: String,
    /// Display name (generic names capitalized, brands as sold).
    pub name: String,
    /// The ingredient(s).
    pub generic_name: String,
    /// e.g. `20 MG`.
    pub strength: String,
    /// e.g. `Oral Tablet`.
    pub dose_form: String,
    /// Whether it is a generic.
    pub is_generic: bool,
    /// Whether it is an insulin.
    pub is_insulin: bool,
    /// Reference price of a 30-day and a 90-day fill, when there is one
    /// (published apart from the columns, keyed by days).
    #[serde(skip)]
    pub prices: [Option<Cents>; 2],
}

impl Drug {
    /// The reference price of a fill of `days`, when there is one.
    pub fn price(&self, days: DaysSupply) -> Option<Cents> {
        self.prices[Self::price_slot(days)]
    }

    /// Where the price of a fill of `days` goes in [`Drug::prices`].
    pub fn price_slot(days: DaysSupply) -> usize {
        usize::from(days == DaysSupply::Ninety)
    }

    /// Every price there is, with its days supply.
    pub fn priced(&self) -> impl Iterator<Item = (DaysSupply, Cents)> + '_ {
        DaysSupply::ALL
            .into_iter()
            .zip(self.prices)
            .filter_map(|(days, price)| price.map(|p| (days, p)))
    }
}
