//! The day's documents for the pharmacy and the ward: the pick list, the
//! summary, `day.csv` and the bags' records.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::error::{DoseError, Result};
use crate::format;

use crate::record::VerifiedRecord;
use crate::template::{Plural, Template};
use crate::time::SiteTime;

use super::{DayPlan, PlannedBag};

impl DayPlan {
    /// Each planned bag's verified record, in the plan's order.
    pub fn records(&self) -> Result<Vec<VerifiedRecord>> {
        self.bags
            .iter()
            .filter_map(|bag| bag.as_ref().ok())
            .map(PlannedBag::record)
            .collect()
    }

    /// How many orders were planned.
    pub fn planned(&self) -> usize {
        self.bags.iter().filter(|b| b.is_ok()).count()
    }

    /// How many rows the ledger holds a bag for already, from the same order.
    pub fn already_recorded(&self) -> usize {
        self.bags
            .iter()
            .filter(|b| matches!(b, Err(DoseError::AlreadyRecorded { .. })))
            .count()
    }

    /// The pick list: which containers of which lot to take from the
    /// freezer, in thaw order. For the pharmacy, in the site's first label
    /// language.
    pub fn pick_list(&self) -> String {
        let captions = self.language.captions();
        let t = &captions.day;
        let mut lines = vec![t.pick_list_title.fill(&[("name", &self.protocol_name)])];
        lines.extend(self.ledger_line());
        if self.thaws.is_empty() {
            lines.push(t.nothing_to_thaw.text().to_owned());
        }
        for thaw in &self.thaws {
            let containers: Vec<String> = thaw.containers.iter().map(u32::to_string).collect();
            lines.push(captions.plural(&t.thaw, thaw.containers.len()).fill(&[
                ("time", &thaw.thawed_at.wall_clock()),
                ("lot", &thaw.lot_id),
                ("containers", &containers.join(", ")),
            ]));
        }
        for (lot, left) in &self.remaining {
            let held = self.held_for_blinding.get(lot).copied().unwrap_or(0); // fallback-ok: a lot nothing is held back of holds back 0
            let forms = if held > 0 { &t.left_held } else { &t.left };
            lines.push(captions.plural(forms, *left as usize).fill(&[
                ("lot", lot),
                ("count", &left.to_string()),
                ("held", &held.to_string()),
            ]));
        }
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    /// The line naming the ledger the day was planned against, where it was.
    fn ledger_line(&self) -> Option<String> {
        let t = &self.language.captions().day;
        self.ledger_before.as_ref().map(|mark| {
            t.ledger_before
                .fill(&[("seq", &mark.seq.to_string()), ("head", &mark.head)])
        })
    }

    /// The summary's lines before its rows: the title, the ledger the day
    /// was planned against, and each thaw session.
    pub fn summary_heading(&self) -> Vec<String> {
        let captions = self.language.captions();
        let t = &captions.day;
        let already = self.already_recorded();
        let failed = self.bags.len() - self.planned() - already;
        let title = if already > 0 {
            &t.summary_title_already
        } else {
            &t.summary_title
        };
        let mut text = vec![captions.plural(title, self.bags.len()).fill(&[
            ("name", &self.protocol_name),
            ("rows", &self.bags.len().to_string()),
            ("planned", &self.planned().to_string()),
            ("already", &already.to_string()),
            ("not_planned", &failed.to_string()),
        ])];
        text.extend(self.ledger_line());
        for (index, thaw) in self.sessions.iter().enumerate() {
            let count = self
                .bags
                .iter()
                .filter(|b| matches!(b, Ok(bag) if bag.session == index))
                .count();
            text.push(captions.plural(&t.session, count).fill(&[
                ("number", &(index + 1).to_string()),
                ("time", &thaw.wall_clock()),
                ("count", &count.to_string()),
            ]));
        }
        text
    }

    /// The summary's rows in columns ([`SUMMARY_COLUMNS`]), in the same
    /// order and as blinded (no arm, content, lot or volume drawn): for a
    /// notebook's table.
    pub fn summary_table(&self) -> Vec<[String; 9]> {
        let mut rows: Vec<(Option<Timestamp>, [String; 9])> = Vec::new();
        for (bag, row) in self.bags.iter().zip(&self.rows) {
            let row_time = row.infusion_at.as_ref();
            let row_text = |time: String, bag_id: String, times: [String; 3], status: String| {
                let [volume, start_by, infuse_by] = times;
                [
                    time,
                    row.row.to_string(),
                    row.participant.clone(),
                    row.visit.clone(),
                    bag_id,
                    volume,
                    start_by,
                    infuse_by,
                    status,
                ]
            };
            let at = || row_time.map_or_else(String::new, SiteTime::time_of_day);
            match bag {
                Ok(bag) => {
                    let prep = &bag.preparation;
                    let start = prep
                        .infusion_at()
                        .as_ref()
                        .map_or(prep.start_by().instant(), SiteTime::instant);
                    let cells = row_text(
                        prep.infusion_at()
                            .as_ref()
                            .map_or_else(String::new, SiteTime::time_of_day),
                        prep.bag_id.map_or_else(String::new, |id| id.as_text()),
                        [
                            format::volume(prep.final_volume),
                            prep.start_by().time_of_day(),
                            prep.infuse_by().time_of_day(),
                        ],
                        "planned".to_owned(),
                    );
                    rows.push((Some(start), cells));
                }
                Err(DoseError::AlreadyRecorded { bag_id, .. }) => rows.push((
                    row_time.map(SiteTime::instant),
                    row_text(
                        at(),
                        bag_id.clone(),
                        Default::default(),
                        "already recorded".to_owned(),
                    ),
                )),
                // The kind only, as in the summary.
                Err(error) => rows.push((
                    row_time.map(SiteTime::instant),
                    row_text(
                        at(),
                        String::new(),
                        Default::default(),
                        format!("not planned: {}", error.kind().name().replace('_', " ")),
                    ),
                )),
            }
        }
        rows.sort_by_key(|(at, _)| *at);
        rows.into_iter().map(|(_, cells)| cells).collect()
    }

    /// A one-screen overview for the ward, in the site's first label
    /// language: every input row, planned or not, with its row number;
    /// sessions and bags in infusion order, with no arm, content, lot or
    /// volume drawn. Rows that could not be read (no time to sort them by)
    /// come first.
    pub fn summary(&self) -> String {
        let captions = self.language.captions();
        let t = &captions.day;
        let mut text = self.summary_heading();
        let no_time = || "--:--".to_owned();
        let mut lines: Vec<(Option<Timestamp>, String)> = Vec::new();
        for (bag, row) in self.bags.iter().zip(&self.rows) {
            let who = t.row.fill(&[
                ("row", &row.row.to_string()),
                (
                    "participant",
                    as_written(&row.participant, t.no_participant.text()),
                ),
                ("visit", as_written(&row.visit, t.no_visit.text())),
            ]);
            let row_time = row.infusion_at.as_ref();
            match bag {
                Ok(bag) => {
                    let prep = &bag.preparation;
                    let start = prep
                        .infusion_at()
                        .as_ref()
                        .map_or(prep.start_by().instant(), SiteTime::instant);
                    lines.push((
                        Some(start),
                        t.planned.fill(&[
                            (
                                "time",
                                &prep
                                    .infusion_at()
                                    .as_ref()
                                    .map_or_else(String::new, SiteTime::time_of_day),
                            ),
                            ("who", &who),
                            (
                                "bag_id",
                                &prep.bag_id.map_or_else(String::new, |id| id.as_text()),
                            ),
                            ("volume", &format::volume(prep.final_volume)),
                            ("start_by", &prep.start_by().time_of_day()),
                            ("infuse_by", &prep.infuse_by().time_of_day()),
                        ]),
                    ));
                }
                Err(DoseError::AlreadyRecorded { bag_id, .. }) => lines.push((
                    row_time.map(SiteTime::instant),
                    t.already_recorded.fill(&[
                        (
                            "time",
                            &row_time.map_or_else(no_time, SiteTime::time_of_day),
                        ),
                        ("who", &who),
                        ("bag_id", bag_id),
                    ]),
                )),
                // The kind only: a placebo's message names its twin.
                Err(error) => lines.push((
                    row_time.map(SiteTime::instant),
                    t.not_planned.fill(&[
                        (
                            "time",
                            &row_time.map_or_else(no_time, SiteTime::time_of_day),
                        ),
                        ("who", &who),
                        ("kind", &error.kind().name().replace('_', " ")),
                    ]),
                )),
            }
        }
        lines.sort_by_key(|(at, _)| *at);
        text.extend(lines.into_iter().map(|(_, line)| line));
        text.iter().map(|line| format!("{line}\n")).collect()
    }

    /// The day as CSV for the pharmacy (unblinded): one line per input row,
    /// in the order given, planned or with the reason it is not.
    pub fn day_csv(&self) -> String {
        let mut buffer = format!("# {UNBLINDED_DOCUMENT}\n").into_bytes();
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(&mut buffer);
        let mut write = |fields: [&str; 13]| {
            // Writing to memory cannot fail, and every record has 13 fields.
            let _ = writer.write_record(fields);
        };
        write([
            "row",
            "participant",
            "visit",
            "arm",
            "content",
            "bag_id",
            "thaw_session",
            "infusion_at",
            "lot_id",
            "containers",
            "draw_volume_ml",
            "status",
            "message",
        ]);
        for (bag, row) in self.bags.iter().zip(&self.rows) {
            let number = row.row.to_string();
            match bag {
                Err(error) => {
                    let (bag_id, status) = match error {
                        DoseError::AlreadyRecorded { bag_id, .. } => {
                            (bag_id.as_str(), "already recorded".to_owned())
                        }
                        other => ("", format!("NOT PLANNED: {}", other.kind().name())),
                    };
                    write([
                        &number,
                        &row.participant,
                        &row.visit,
                        "",
                        "",
                        bag_id,
                        "",
                        &row.infusion_at
                            .as_ref()
                            .map_or_else(String::new, offset_time),
                        "",
                        "",
                        "",
                        &status,
                        &error.to_string(),
                    ]);
                }
                Ok(bag) => {
                    let prep = &bag.preparation;
                    let containers: Vec<String> = prep
                        .draws
                        .iter()
                        .map(|d| format!("{}#{}:{}mL", d.lot_id, d.container, d.volume.ml()))
                        .collect();
                    write([
                        &number,
                        &prep.participant,
                        &prep.visit,
                        &prep.arm,
                        prep.content.as_str(),
                        &prep.bag_id.map_or_else(String::new, |id| id.as_text()),
                        &offset_time(&prep.thawed_at()),
                        &prep
                            .infusion_at()
                            .as_ref()
                            .map_or_else(String::new, offset_time),
                        prep.dose.as_ref().map_or("", |dose| dose.lot_id.as_str()),
                        &containers.join(" "),
                        &prep
                            .draw_volume()
                            .map_or_else(String::new, |volume| volume.ml().to_string()),
                        "planned",
                        "",
                    ]);
                }
            }
        }
        // Dropping the writer flushes it into the buffer.
        drop(writer);
        // Every cell came from a `str`, so the bytes are UTF-8.
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// The heading of every unblinded pharmacy document of a day.
pub const UNBLINDED_DOCUMENT: &str =
    "UNBLINDED pharmacy document: keep in pharmacy, do not send to the ward";

/// A time with its UTC offset, as a spreadsheet reads it
/// (2026-11-25T08:30:00-05:00).
fn offset_time(time: &SiteTime) -> String {
    time.zoned().strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// A cell as written, or a stand-in that says it was empty.
fn as_written<'a>(text: &'a str, empty: &'a str) -> &'a str {
    if text.is_empty() {
        empty
    } else {
        text
    }
}

/// The columns of [`DayPlan::summary_table`], named as `day.csv` names them.
pub const SUMMARY_COLUMNS: [&str; 9] = [
    "infusion_at",
    "row",
    "participant",
    "visit",
    "bag_id",
    "final_volume",
    "start_by",
    "infuse_by",
    "status",
];

/// The pick list's and the summary's texts in one language.
/// Read from the message catalogues; every key is required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayText {
    pub(crate) pick_list_title: Template,
    pub(crate) nothing_to_thaw: Template,
    pub(crate) thaw: Plural,
    pub(crate) left: Plural,
    pub(crate) left_held: Plural,
    pub(crate) summary_title: Plural,
    pub(crate) summary_title_already: Plural,
    pub(crate) session: Plural,
    pub(crate) row: Template,
    pub(crate) no_participant: Template,
    pub(crate) no_visit: Template,
    pub(crate) planned: Template,
    pub(crate) already_recorded: Template,
    pub(crate) not_planned: Template,
    pub(crate) ledger_before: Template,
}
