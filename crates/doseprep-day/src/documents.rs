//! The documents of a day and of a reprint, and their file names. Every
//! bag's documents are made from its preparation record; its file names are
//! its bag id, which is digits and capitals only.

use std::io::Write as _;
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
    /// Also `labels.zpl`, the labels for the site's thermal printer.
    TextAndZpl,
    /// Both the PDFs and `labels.zpl`.
    TextPdfAndZpl,
}

impl Printed {
    /// The documents asked for by the command's `--pdf` and `--zpl`.
    pub fn of(pdf: bool, zpl: bool) -> Printed {
        match (pdf, zpl) {
            (false, false) => Printed::Text,
            (true, false) => Printed::TextAndPdf,
            (false, true) => Printed::TextAndZpl,
            (true, true) => Printed::TextPdfAndZpl,
        }
    }

    fn pdf(self) -> bool {
        matches!(self, Printed::TextAndPdf | Printed::TextPdfAndZpl)
    }

    fn zpl(self) -> bool {
        matches!(self, Printed::TextAndZpl | Printed::TextPdfAndZpl)
    }
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
    written.extend(write_printed(folder, records, printed)?);
    write_bags(folder, records)?;
    written.push("bags/");
    sync_folder(folder)?;
    Ok(written)
}

/// The bags' documents of a reprint into `folder`: `bags/` and, where
/// asked, the PDFs.
pub fn write_reprint(folder: &Path, records: &[VerifiedRecord], printed: Printed) -> Result<()> {
    write_bags(folder, records)?;
    write_printed(folder, records, printed)?;
    sync_folder(folder)
}

fn write_printed(
    folder: &Path,
    records: &[VerifiedRecord],
    printed: Printed,
) -> Result<Vec<&'static str>> {
    let labels: Vec<LabelFacts> = records
        .iter()
        .map(|r| LabelFacts::new(&r.protocol, &r.preparation))
        .collect();
    let mut written = Vec::new();
    if printed.pdf() {
        write_file(folder, "labels.pdf", &doseprep_print::labels_pdf(&labels)?)?;
        write_file(
            folder,
            "worksheets.pdf",
            &doseprep_print::worksheets_pdf(records)?,
        )?;
        written.extend(["labels.pdf", "worksheets.pdf"]);
    }
    if printed.zpl() {
        write_file(
            folder,
            "labels.zpl",
            doseprep_print::labels_zpl(&labels)?.as_bytes(),
        )?;
        written.push("labels.zpl");
    }
    Ok(written)
}

/// One bag's label as ZPL into the file or device at `path`, as a printer
/// driver sends it: a file is replaced and synced to disk; a device (a
/// printer's `/dev/usb/lp0`, a FIFO) is written to.
pub fn write_label_zpl(path: &Path, record: &VerifiedRecord) -> Result<()> {
    let label = LabelFacts::new(&record.protocol, &record.preparation);
    let zpl = doseprep_print::labels_zpl(&[label])?;
    let failed = |source| DayError::Write {
        path: path.to_owned(),
        source,
    };
    let mut target = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(failed)?;
    target.write_all(zpl.as_bytes()).map_err(failed)?;
    // A device cannot be synced (fsync says EINVAL); only a file is kept.
    if target.metadata().map_err(failed)?.is_file() {
        target.sync_all().map_err(failed)?;
    }
    Ok(())
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
