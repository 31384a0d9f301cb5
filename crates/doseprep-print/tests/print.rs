//! The printed label and worksheet: twins print the same bytes, the same bag
//! prints the same bytes twice, and what does not fit is an error naming the
//! size. (Rendering and barcode decoding are checked from Python, with
//! poppler and zxing-cpp.)

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use doseprep::{
    parse_time, prepare, BagId, CellConcentration, ExactVolume, LabelFacts, Lot, LotSpec, Order,
    PreparationRecord, Protocol,
};
use doseprep_print::{labels_html, labels_pdf, worksheet_html, worksheets_pdf, PrintError};
use proptest::prelude::*;

fn lot() -> Lot {
    Lot::new(LotSpec {
        lot_id: "UC-0042".into(),
        viable_cells_per_ml: CellConcentration::parse("c", "12.5 million cells/mL").unwrap(),
        viability: 0.93,
        container_volume: ExactVolume::parse("v", "10 mL").unwrap(),
        extractable_volume: None,
        containers: 4,
        dmso_fraction: Some(0.05),
        expires_at: None,
    })
    .unwrap()
}

fn order(arm: &str, visit: &str, weight_kg: f64, bag_id: BagId) -> Order {
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00-05:00").unwrap();
    Order::with_weight_text("CARE-012", &format!("{weight_kg} kg"), arm, visit, thawed)
        .unwrap()
        .with_bag_id(bag_id)
}

fn facts(protocol: &Protocol, arm: &str, weight_kg: f64, bag_id: &str) -> LabelFacts {
    facts_at(protocol, arm, "month-0", weight_kg, bag_id)
}

fn facts_at(
    protocol: &Protocol,
    arm: &str,
    visit: &str,
    weight_kg: f64,
    bag_id: &str,
) -> LabelFacts {
    let bag_id = BagId::parse(bag_id).unwrap();
    let mut order = order(arm, visit, weight_kg, bag_id);
    if protocol.label().isbt128.is_some() {
        // Twins carry the same number, as they carry the same bag id.
        order = order.with_din_sequence(doseprep::DinSequence::new(4_096).unwrap());
    }
    let prep = prepare(protocol, &order, &lot()).unwrap();
    LabelFacts::new(protocol, &prep)
}

fn protocol_with_label(label: &str) -> Protocol {
    let text = doseprep::protocol::CARE_SSC_TOML;
    let start = text.find("\n[label]\n").unwrap();
    let end = text.find("\n[site]\n").unwrap();
    Protocol::from_toml(&format!("{}\n{label}{}", &text[..start], &text[end..])).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// An active bag and its placebo twin (A and C at month 0, A and B at
    /// month 3) print the same PDF and HTML bytes for the same participant,
    /// weight and bag id, with and without ISBT 128 codes.
    #[test]
    fn twins_print_the_same_bytes(tenths in 300u32..2500, month_3 in any::<bool>(), isbt in any::<bool>(), id in any::<u64>()) {
        let protocol = if isbt {
            Protocol::from_toml(include_str!("../../../tests/vectors/protocols/care-ssc-isbt128.toml")).unwrap()
        } else {
            Protocol::care_ssc()
        };
        let weight = f64::from(tenths) / 10.0;
        let bag_id = BagId::from_random(id).as_text();
        let (visit, placebo_arm) = if month_3 { ("month-3", "B") } else { ("month-0", "C") };
        let active = facts_at(&protocol, "A", visit, weight, &bag_id);
        let placebo = facts_at(&protocol, placebo_arm, visit, weight, &bag_id);
        let (active, placebo) = ([active], [placebo]);
        prop_assert_eq!(labels_pdf(&active).unwrap(), labels_pdf(&placebo).unwrap());
        prop_assert_eq!(labels_html(&active).unwrap(), labels_html(&placebo).unwrap());
    }
}

#[test]
fn the_same_bags_print_the_same_bytes_twice() {
    let protocol = Protocol::care_ssc();
    let labels = [
        facts(&protocol, "A", 72.4, "014D2PF2DBR"),
        facts(&protocol, "B", 80.0, &BagId::from_random(7).as_text()),
    ];
    let first = labels_pdf(&labels).unwrap();
    assert!(first.starts_with(b"%PDF-"));
    assert_eq!(first, labels_pdf(&labels).unwrap());
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00-05:00").unwrap();
    let order = Order::with_weight_text("CARE-012", "72.4 kg", "A", "month-0", thawed).unwrap();
    let record = PreparationRecord::prepare(&protocol, &order, &lot()).unwrap();
    let sheet = worksheets_pdf(std::slice::from_ref(&record)).unwrap();
    assert_eq!(
        sheet,
        worksheets_pdf(std::slice::from_ref(&record)).unwrap()
    );
    // The worksheet carries the record's fingerprint as text beside its Data Matrix.
    let html = worksheet_html(&record).unwrap();
    assert!(html.contains(&format!(
        "Record fingerprint: {}",
        record.fingerprint().unwrap()
    )));
    assert!(html.contains("aria-label=\"Data Matrix: "));
}

#[test]
fn a_narrow_label_is_refused_with_the_width_it_needs() {
    // Code 128 of an 11-symbol bag id: 156 modules + 2 × 10 quiet = 176
    // modules of 0.25 mm = 44 mm, from the 3 mm margin: 47 mm.
    let protocol = protocol_with_label("[label]\nwidth_mm = 45\nheight_mm = 60\n");
    let error = labels_pdf(&[facts(&protocol, "A", 72.4, "014D2PF2DBR")]).unwrap_err();
    assert_eq!(
        error,
        PrintError::BarcodeTooWide {
            text: "014D2PF2DBR".into(),
            width_mm: 45.0,
            needed_mm: 3.0 + 176.0 * 0.25,
        }
    );
    assert_eq!(error.parts().field.as_deref(), Some("label.width_mm"));
    assert_eq!(error.parts().limit.as_deref(), Some("at least 47.0 mm"));
    // Without a bag id there is no barcode: the same label prints.
    let thawed = parse_time("thawed_at", "2026-11-25T09:00:00-05:00").unwrap();
    let plain = Order::with_weight_text("CARE-012", "72.4 kg", "A", "month-0", thawed).unwrap();
    let prep = prepare(&protocol, &plain, &lot()).unwrap();
    assert!(labels_pdf(&[LabelFacts::new(&protocol, &prep)]).is_ok());
}

#[test]
fn a_low_label_is_refused_naming_its_size() {
    let protocol = protocol_with_label("[label]\nwidth_mm = 100\nheight_mm = 20\n");
    let error = labels_pdf(&[facts(&protocol, "A", 72.4, "014D2PF2DBR")]).unwrap_err();
    assert!(
        matches!(
            error,
            PrintError::TextTooLong { width_mm, height_mm, smallest_pt, .. }
                if width_mm == 100.0 && height_mm == 20.0 && smallest_pt == 4.5
        ),
        "{error:?}"
    );
    assert_eq!(error.parts().value.as_deref(), Some("100 × 20 mm"));
}

#[test]
fn the_label_text_shrinks_to_fit_and_keeps_every_line() {
    let protocol = Protocol::care_ssc();
    let label = facts(&protocol, "A", 72.4, "014D2PF2DBR");
    let html = labels_html(std::slice::from_ref(&label)).unwrap();
    for line in label.lines() {
        // Wrapped lines split at spaces; every word is on the page.
        for word in line.text.split(' ').filter(|w| !w.is_empty()) {
            let escaped = word.replace('&', "&amp;");
            assert!(html.contains(&escaped), "{word:?} missing");
        }
    }
    assert!(html.contains("aria-label=\"Code 128: 014D2PF2DBR\""));
    assert!(html.contains("aria-label=\"Data Matrix: 014D2PF2DBR\""));
}
