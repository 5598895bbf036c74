//! The ICAO 9303 code list for issuing states and nationalities (Doc 9303 Part 3, section 5):
//! ISO 3166-1 alpha-3 codes plus ICAO's own codes (Germany's `D`, British nationality classes,
//! United Nations, stateless and refugee codes, international organisations) and the specimen
//! code `UTO` (Utopia), which is flagged rather than failed.

use serde::Serialize;

/// What the code list says about a three-letter (filler-trimmed) code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountryStatus {
    /// A state, territory or organisation code that ICAO lists.
    Known,
    /// An ICAO specimen code (`UTO`): valid on specimens only, reported as a warning.
    Specimen,
    /// Not on the list.
    Unknown,
}

/// ISO 3166-1 alpha-3 codes (sorted).
const ISO_ALPHA3: &[&str] = &[
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF", "ATG", "AUS", "AUT",
    "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL",
    "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
    "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM",
    "DZA", "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM", "GAB", "GBR",
    "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD", "GRL", "GTM", "GUF", "GUM", "GUY",
    "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA",
    "JAM", "JEY", "JOR", "JPN", "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY",
    "LCA", "LIE", "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX", "MHL",
    "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS", "MWI", "MYS", "MYT", "NAM",
    "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL", "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER",
    "PHL", "PLW", "PNG", "POL", "PRI", "PRK", "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU",
    "SDN", "SEN", "SGP", "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL", "TKM", "TLS", "TON",
    "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY", "USA", "UZB", "VAT", "VCT", "VEN", "VGB",
    "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF", "ZMB", "ZWE",
];

/// ICAO codes that are not ISO 3166-1 alpha-3 codes (sorted).
const ICAO_EXTRA: &[&str] = &[
    "D", "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS", "UNA", "UNK", "UNO", "XBA", "XCC", "XCE", "XCO", "XDC",
    "XEC", "XES", "XIM", "XMP", "XOM", "XPO", "XXA", "XXB", "XXC", "XXX",
];

/// ICAO specimen codes.
const SPECIMEN: &[&str] = &["UTO"];

/// Looks up a code as it appears in an MRZ (trailing fillers already removed).
pub fn lookup(code: &str) -> CountryStatus {
    if SPECIMEN.contains(&code) {
        CountryStatus::Specimen
    } else if ISO_ALPHA3.binary_search(&code).is_ok() || ICAO_EXTRA.binary_search(&code).is_ok() {
        CountryStatus::Known
    } else {
        CountryStatus::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(ISO_ALPHA3.windows(2).all(|w| w[0] < w[1]));
        assert!(ICAO_EXTRA.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(ISO_ALPHA3.len(), 249);
    }

    #[test]
    fn known_specimen_and_unknown_codes() {
        assert_eq!(lookup("CHE"), CountryStatus::Known);
        assert_eq!(lookup("D"), CountryStatus::Known);
        assert_eq!(lookup("GBD"), CountryStatus::Known);
        assert_eq!(lookup("XXA"), CountryStatus::Known);
        assert_eq!(lookup("UTO"), CountryStatus::Specimen);
        assert_eq!(lookup("UT0"), CountryStatus::Unknown);
        assert_eq!(lookup("QQQ"), CountryStatus::Unknown);
        assert_eq!(lookup(""), CountryStatus::Unknown);
    }
}
