//! Every US zip code with its state, county and city, embedded in the binary
//! (`generator/data/zips.psv.gz`, built by `generator/data/make-zips.py`):
//! seeding needs no network.

use std::collections::BTreeMap;
use std::io::Read;

use crate::{Error, Result};

/// The embedded list: gzip'ed `zip|type|state|county|city` lines.
const EMBEDDED: &[u8] = include_bytes!("../../data/zips.psv.gz");

/// What a zip code delivers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZipKind {
    /// Street addresses.
    Standard,
    /// PO boxes only.
    PoBox,
    /// One organisation (a university, an agency).
    Unique,
    /// APO/FPO military mail.
    Military,
}

/// One zip code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZipCode {
    /// Five digits, leading zeros kept (`00501`).
    pub zip: String,
    /// What it delivers to.
    pub kind: ZipKind,
    /// Two-letter postal code of the state, territory or military region.
    pub state: String,
    /// County (or parish, borough, municipio); empty where there is none.
    pub county: String,
    /// The post office's city name.
    pub city: String,
}

/// Zip codes grouped by state, each group sorted by zip.
#[derive(Debug, Clone, Default)]
pub struct ZipTable {
    by_state: BTreeMap<String, Vec<ZipCode>>,
}

impl ZipTable {
    /// The list shipped in the binary.
    pub fn embedded() -> Result<Self> {
        Self::from_gzip(EMBEDDED)
    }

    /// Decodes a gzip'ed list.
    pub fn from_gzip(bytes: &[u8]) -> Result<Self> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| Error::ZipData {
                line: 0,
                reason: format!("not gzip'ed UTF-8 text: {e}"),
            })?;
        Self::parse(&text)
    }

    /// Parses `zip|type|state|county|city` lines; errors name the line.
    pub fn parse(text: &str) -> Result<Self> {
        let mut by_state: BTreeMap<String, Vec<ZipCode>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let zip = parse_line(line).map_err(|reason| Error::ZipData {
                line: i + 1,
                reason: format!("{reason} in {line:?}"),
            })?;
            by_state.entry(zip.state.clone()).or_default().push(zip);
        }
        if by_state.is_empty() {
            return Err(Error::ZipData {
                line: 0,
                reason: "the zip code list is empty".into(),
            });
        }
        for zips in by_state.values_mut() {
            zips.sort_by(|a, b| a.zip.cmp(&b.zip));
        }
        Ok(Self { by_state })
    }

    /// Every state code, sorted. A state's position here is stable whatever
    /// subset is seeded, so identifiers derived from it are too.
    pub fn states(&self) -> impl Iterator<Item = &str> {
        self.by_state.keys().map(String::as_str)
    }

    /// The zip codes of one state, sorted; empty if the state is unknown.
    pub fn in_state(&self, state: &str) -> &[ZipCode] {
        self.by_state.get(state).map(Vec::as_slice).unwrap_or(&[])
    }

    /// How many zip codes there are in all.
    pub fn len(&self) -> usize {
        self.by_state.values().map(Vec::len).sum()
    }

    /// Whether there are none (never true for a parsed table).
    pub fn is_empty(&self) -> bool {
        self.by_state.is_empty()
    }
}

fn parse_line(line: &str) -> std::result::Result<ZipCode, String> {
    let fields: Vec<&str> = line.split('|').collect();
    let [zip, kind, state, county, city] = fields[..] else {
        return Err(format!("expected 5 fields, found {}", fields.len()));
    };
    if !whatever_database::rules::zip::is_zip(zip) {
        return Err(format!("zip {zip:?} is not five digits"));
    }
    let kind = match kind {
        "S" => ZipKind::Standard,
        "P" => ZipKind::PoBox,
        "U" => ZipKind::Unique,
        "M" => ZipKind::Military,
        other => {
            return Err(format!(
                "unknown zip type {other:?} (expected S, P, U or M)"
            ));
        }
    };
    if state.len() != 2 || !state.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(format!("state {state:?} is not two capital letters"));
    }
    if city.is_empty() {
        return Err("the city is empty".into());
    }
    Ok(ZipCode {
        zip: zip.into(),
        kind,
        state: state.into(),
        county: county.into(),
        city: city.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_decoded_with_leading_zeros() {
        let table = ZipTable::parse(
            "02134|S|MA|Suffolk County|Allston\n00501|U|NY|Suffolk County|Holtsville\n\
             09001|M|AE||APO\n",
        )
        .unwrap();
        assert_eq!(table.states().collect::<Vec<_>>(), ["AE", "MA", "NY"]);
        let ny = table.in_state("NY");
        assert_eq!(ny[0].zip, "00501");
        assert_eq!(ny[0].kind, ZipKind::Unique);
        assert_eq!(ny[0].county, "Suffolk County");
        assert_eq!(table.in_state("AE")[0].county, "");
        assert!(table.in_state("ZZ").is_empty());
        assert_eq!(table.len(), 3);
    }

    #[test]
    fn a_bad_line_is_named_by_number() {
        let err = ZipTable::parse("02134|S|MA|Suffolk County|Allston\n2134|S|MA|X|Y\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("\"2134\" is not five digits"), "{err}");
        let err = ZipTable::parse("02134|S|MA|Allston\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected 5 fields, found 4"), "{err}");
        let err = ZipTable::parse("02134|X|MA|C|Allston\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown zip type \"X\""), "{err}");
    }

    #[test]
    fn garbage_and_empty_input_are_refused() {
        assert!(ZipTable::from_gzip(b"not gzip").is_err());
        assert!(ZipTable::parse("\n").is_err());
    }

    #[test]
    fn the_embedded_list_covers_the_country() {
        let table = ZipTable::embedded().unwrap();
        assert!((41_000..43_000).contains(&table.len()), "{}", table.len());
        // 50 states, DC, territories and the military regions.
        assert!(table.states().count() >= 56);
        let ny = table.in_state("NY");
        assert_eq!(ny[0].zip, "00501");
        assert_eq!(ny[0].city, "Holtsville");
        assert!(table.in_state("PR").iter().any(|z| z.zip == "00601"));
        let ma = table.in_state("MA");
        assert!(
            ma.iter()
                .any(|z| z.zip == "02134" && z.county == "Suffolk County")
        );
    }
}
