//! The documents of a day and of a reprint, and their file names. Every
//! bag's documents are made from its preparation record; its file names are
//! its bag id, which is digits and capitals only.

use std::path::Path;

use doseprep::{blinded_label, worksheet, DayPlan, LabelFacts, VerifiedRecord};

use crate::error::{DayError, Result};
use crate::folder::{make_folder, replace_file, sync_folder, write_file};

/// Which documents are written beside the text ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Printed {
    /// Text only: the pick list, summary, `day.csv` and each bag's files.
    Text,
    /// Also `labels.pdf` (blinded, for the ward) and `worksheets.pdf`
    /// (unblinded, for the pharmacy), a page per bag.
    TextAndPdf,
}

/// The folder of the bags' own files.
pub const BAGS_FOLDER: &str = "bags";

/// Every document of a day into `folder`: the pick list, the summary,
/// `day.csv`, the PDFs where asked, and `bags/` with each bag's label,
/// worksheet and record. Returns the names written, in that order.
pub fn write_day(
    folder: &Path,
    plan: &DayPlan,
    records: &[VerifiedRecord],
    printed: Printed,
) -> Result<Vec<&'static str>> {
    write_file(folder, "pick-list.txt", plan.pick_list().as_bytes())?;
    write_file(folder, "summary.txt", plan.summary().as_bytes())?;
    write_file(folder, "day.csv", plan.day_csv().as_bytes())?;
    let mut written = vec!["pick-list.txt", "summary.txt", "day.csv"];
    written.extend(write_pdfs(folder, records, printed)?);
    write_bags(folder, records)?;
    written.push("bags/");
    sync_folder(folder)?;
    Ok(written)
}

/// The bags' documents of a reprint into `folder`: `bags/` and, where
/// asked, the PDFs.
pub fn write_reprint(folder: &Path, records: &[VerifiedRecord], printed: Printed) -> Result<()> {
    write_bags(folder, records)?;
    write_pdfs(folder, records, printed)?;
    sync_folder(folder)
}

fn write_pdfs(
    folder: &Path,
    records: &[VerifiedRecord],
    printed: Printed,
) -> Result<Vec<&'static str>> {
    match printed {
        Printed::Text => Ok(Vec::new()),
        Printed::TextAndPdf => {
            let labels: Vec<LabelFacts> = records
                .iter()
                .map(|r| LabelFacts::new(&r.protocol, &r.preparation))
                .collect();
            write_file(folder, "labels.pdf", &doseprep_print::labels_pdf(&labels)?)?;
            write_file(
                folder,
                "worksheets.pdf",
                &doseprep_print::worksheets_pdf(records)?,
            )?;
            Ok(vec!["labels.pdf", "worksheets.pdf"])
        }
    }
}

/// `bags/ID.label.txt`, `ID.worksheet.txt` and `ID.record.json` for each
/// bag. A bag without an id cannot be named, and is refused, not skipped
/// (a day plan and the ledger give every bag one).
fn write_bags(folder: &Path, records: &[VerifiedRecord]) -> Result<()> {
    let bags = make_folder(folder, BAGS_FOLDER)?;
    for record in records {
        let prep = &record.preparation;
        let bag_id = prep.bag_id.ok_or_else(|| DayError::Unnamed {
            participant: prep.participant.to_string(),
            visit: prep.visit.to_string(),
        })?;
        let id = bag_id.as_text();
        let label = blinded_label(record);
        write_file(&bags, &format!("{id}.label.txt"), label.as_bytes())?;
        write_file(
            &bags,
            &format!("{id}.worksheet.txt"),
            worksheet(record).as_bytes(),
        )?;
        let json = record.to_json()? + "\n";
        write_file(&bags, &format!("{id}.record.json"), json.as_bytes())?;
    }
    sync_folder(&bags)
}

/// One bag's `label.pdf` and `worksheet.pdf` in `folder` (made if missing;
/// files there are replaced).
pub fn write_bag_pdfs(folder: &Path, record: &VerifiedRecord) -> Result<[&'static str; 2]> {
    std::fs::create_dir_all(folder).map_err(|source| DayError::Write {
        path: folder.to_owned(),
        source,
    })?;
    let label = LabelFacts::new(&record.protocol, &record.preparation);
    replace_file(
        &folder.join("label.pdf"),
        &doseprep_print::labels_pdf(&[label])?,
    )?;
    replace_file(
        &folder.join("worksheet.pdf"),
        &doseprep_print::worksheets_pdf(std::slice::from_ref(record))?,
    )?;
    Ok(["label.pdf", "worksheet.pdf"])
}
