//! A day's orders: the rows of the day's list, each read on its own, so an
//! unreadable row keeps its number and its error.

use jiff::ZonedDateTime;

use crate::error::Result;
use crate::order::{non_empty, Order};
use crate::protocol::Protocol;
use crate::table::{read_csv, read_sheet, DateCells, Row, Sheet};
use crate::time::parse_time;
use crate::units::{BodyWeight, GivenWeight};
use crate::Text;

/// One order of a day: no arm (the list gives it), the weight measured that
/// morning and the scheduled start of the infusion.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOrder {
    pub(super) participant: Text,
    pub(super) visit: Text,
    weight: GivenWeight,
    baseline_weight: Option<GivenWeight>,
    pub(super) infusion_at: ZonedDateTime,
    weighed_at: Option<ZonedDateTime>,
    arm: Option<Text>,
}

impl DayOrder {
    /// An order of the day, the weight in kilograms given as a number.
    pub fn new(
        participant: &str,
        visit: &str,
        weight: BodyWeight,
        infusion_at: ZonedDateTime,
    ) -> Result<DayOrder> {
        DayOrder::given(
            participant,
            visit,
            GivenWeight::kilograms(weight),
            infusion_at,
        )
    }

    /// An order of the day, the weight as it was given (typed, or in kilograms).
    pub fn given(
        participant: &str,
        visit: &str,
        weight: GivenWeight,
        infusion_at: ZonedDateTime,
    ) -> Result<DayOrder> {
        Ok(DayOrder {
            participant: non_empty("participant", participant)?,
            visit: non_empty("visit", visit)?,
            weight,
            baseline_weight: None,
            infusion_at,
            weighed_at: None,
            arm: None,
        })
    }

    /// The baseline weight as given, for protocols that dose on it.
    pub fn baseline(mut self, weight: GivenWeight) -> DayOrder {
        self.baseline_weight = Some(weight);
        self
    }

    /// When the participant was weighed (no later than the infusion start;
    /// not compared on a rerun: it does not change the dose).
    pub fn weighed(mut self, at: ZonedDateTime) -> DayOrder {
        self.weighed_at = Some(at);
        self
    }

    /// When the participant was weighed, if given.
    pub fn weighed_at(&self) -> Option<&ZonedDateTime> {
        self.weighed_at.as_ref()
    }

    /// An arm the order states: it must agree with the list.
    pub fn stated_arm(mut self, arm: &str) -> Result<DayOrder> {
        self.arm = Some(non_empty("arm", arm)?);
        Ok(self)
    }

    /// Participant.
    pub fn participant(&self) -> &str {
        &self.participant
    }
    /// Visit.
    pub fn visit(&self) -> &str {
        &self.visit
    }
    /// Weight at the visit.
    pub fn weight(&self) -> BodyWeight {
        self.weight.weight()
    }
    /// The weight at the visit as it was given.
    pub fn given_weight(&self) -> &GivenWeight {
        &self.weight
    }
    /// Baseline weight, if given.
    pub fn baseline_weight(&self) -> Option<BodyWeight> {
        self.baseline_weight.as_ref().map(GivenWeight::weight)
    }
    /// Scheduled start of the infusion.
    pub fn infusion_at(&self) -> &ZonedDateTime {
        &self.infusion_at
    }
    /// The arm the order states, if any.
    pub fn arm(&self) -> Option<&str> {
        self.arm.as_deref()
    }

    /// The order to prepare: in `arm` (from the list), thawed at its
    /// session's `thawed_at`.
    pub(crate) fn order_at(&self, arm: &str, thawed_at: &ZonedDateTime) -> Result<Order> {
        let order = Order::given(
            &self.participant,
            self.weight.clone(),
            arm,
            &self.visit,
            thawed_at.clone(),
        )?
        .infusion(self.infusion_at.clone());
        let order = match &self.weighed_at {
            Some(at) => order.weighed(at.clone()),
            None => order,
        };
        Ok(match &self.baseline_weight {
            Some(baseline) => order.baseline(baseline.clone()),
            None => order,
        })
    }

    /// Read a day's orders CSV: `participant,visit,weight,infusion_at` and
    /// optionally `baseline_weight`, `arm`, `weighed_at`. A bad header is an error for the
    /// file; a bad cell is that row's error, in its place, with the row's
    /// number and its participant and visit as written.
    pub fn from_csv_text(text: &str) -> Result<Vec<DayRow>> {
        let (required, optional) = ORDER_COLUMNS;
        Ok(DayOrder::from_rows(&read_csv(
            "orders file",
            text,
            required,
            optional,
        )?))
    }

    /// Read a day's orders from a spreadsheet's sheet, as from CSV: the
    /// same columns and errors, rows numbered as the sheet numbers them. A
    /// date-and-time cell is read on `protocol`'s site clock where its site
    /// file says `spreadsheet_times = "site clock"`, and refused otherwise.
    pub fn from_sheet(sheet: &Sheet, protocol: &Protocol) -> Result<Vec<DayRow>> {
        let (required, optional) = ORDER_COLUMNS;
        let dates = match protocol.spreadsheet_zone() {
            Some(zone) => DateCells::SiteClock(zone),
            None => DateCells::UnlessTheSiteSays,
        };
        Ok(DayOrder::from_rows(&read_sheet(
            "orders file",
            sheet,
            required,
            optional,
            dates,
        )?))
    }

    fn from_rows(rows: &[Row]) -> Vec<DayRow> {
        rows.iter()
            .map(|row| DayRow {
                row: row.line,
                participant: row.optional("participant").unwrap_or_default().to_owned(), // fallback-ok: an empty cell is shown empty, and the row is refused by from_row
                visit: row.optional("visit").unwrap_or_default().to_owned(), // fallback-ok: as above
                order: DayOrder::from_row(row),
            })
            .collect()
    }

    fn from_row(row: &Row) -> Result<DayOrder> {
        let mut order = DayOrder::given(
            row.required("participant")?,
            row.required("visit")?,
            GivenWeight::typed("weight", row.required("weight")?)?,
            parse_time("infusion_at", row.required("infusion_at")?)?,
        )?;
        if let Some(text) = row.optional("baseline_weight") {
            order = order.baseline(GivenWeight::typed("baseline_weight", text)?);
        }
        if let Some(arm) = row.optional("arm") {
            order = order.stated_arm(arm)?;
        }
        if let Some(text) = row.optional("weighed_at") {
            order = order.weighed(parse_time("weighed_at", text)?);
        }
        Ok(order)
    }
}

/// A day's orders file's columns: those it needs, those it may have.
const ORDER_COLUMNS: (&[&str], &[&str]) = (
    &["participant", "visit", "weight", "infusion_at"],
    &["baseline_weight", "arm", "weighed_at"],
);

/// One row of a day's orders as it was read: its number, the participant
/// and visit as written (kept even when another cell of the row cannot be
/// read), and the order or why the row cannot be made into one. Every row
/// stays in the plan, so none can drop off the ward's sheet.
#[derive(Debug, Clone, PartialEq)]
pub struct DayRow {
    /// In a file, the row as a spreadsheet numbers it (the header is row
    /// 1); in a list given in code, the position from 1.
    pub row: usize,
    /// The participant as written, empty where the cell was.
    pub participant: String,
    /// The visit as written, empty where the cell was.
    pub visit: String,
    /// The order, or why the row is not one.
    pub order: Result<DayOrder>,
}

impl DayRow {
    /// Orders given in code, numbered by their position from 1.
    pub fn numbered(orders: impl IntoIterator<Item = DayOrder>) -> Vec<DayRow> {
        orders
            .into_iter()
            .enumerate()
            .map(|(index, order)| DayRow {
                row: index + 1,
                participant: order.participant.to_string(),
                visit: order.visit.to_string(),
                order: Ok(order),
            })
            .collect()
    }
}
