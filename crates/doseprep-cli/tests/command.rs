//! The `doseprep` binary as a pharmacist runs it: a day recorded in a real
//! ledger file, run again after a fix, reprinted byte for byte; and user
//! mistakes as one line on stderr with exit status 2.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

const LOTS: &str = r#"[[lot]]
lot_id = "UC-0042"
viable_cells_per_ml = "12.5 million cells/mL"
viability = 0.93
container_volume = "10 mL"
containers = 12
dmso_fraction = 0.05
"#;
const ARMS: &str = "participant,arm\nCARE-001,A\nCARE-002,B\nCARE-003,C\n";
const HEADER: &str = "participant,visit,weight,infusion_at\n";
const ROW_1: &str = "CARE-001,month-0,72.4 kg,2026-11-25T09:00:00-05:00\n";
const ROW_2: &str = "CARE-002,month-0,80 kg,2026-11-25T09:30:00-05:00\n";
const ROW_3: &str = "CARE-003,month-0,58 kg,2026-11-25T10:00:00-05:00\n";

fn doseprep(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_doseprep"))
        .args(args)
        .output()
        .expect("the doseprep binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn s(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

fn files_of(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect()
}

/// A folder with the lots file and the list, and a ledger that received
/// the lot: the stdout of the receipt.
/// `doseprep prepare` of CARE-012 (72.4 kg, arm A, month-0) from `lot`,
/// thawed at `thawed_at`, with `more` arguments.
fn prepare_care_012(lot: &Path, thawed_at: &str, more: &[&str]) -> Output {
    let mut args = vec![
        "prepare",
        "--participant",
        "CARE-012",
        "--weight",
        "72.4 kg",
        "--arm",
        "A",
        "--visit",
        "month-0",
        "--lot",
        s(lot),
        "--thawed-at",
        thawed_at,
    ];
    args.extend_from_slice(more);
    doseprep(&args)
}

fn stocked_folder(folder: &Path) -> String {
    std::fs::write(folder.join("lots.toml"), LOTS).unwrap();
    std::fs::write(folder.join("randomization.csv"), ARMS).unwrap();
    let db = folder.join("pharmacy.db");
    assert_eq!(doseprep(&["ledger", "init", s(&db)]).status.code(), Some(0));
    let received = doseprep(&[
        "ledger",
        "receive",
        s(&db),
        s(&folder.join("lots.toml")),
        "--at",
        "2026-11-20T10:00:00-05:00",
        "--initials",
        "MH",
    ]);
    text(&received.stdout)
}

#[test]
fn a_day_is_recorded_run_again_after_a_fix_and_reprinted_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let db = at("pharmacy.db");
    assert_eq!(
        stocked_folder(dir.path()),
        "event 1: received lot UC-0042, containers 1 to 12\n"
    );
    let day = |orders: &str, out: &str| {
        let path = at(&format!("{out}.csv"));
        std::fs::write(&path, format!("{HEADER}{orders}")).unwrap();
        doseprep(&[
            "day",
            s(&path),
            "--randomization",
            s(&at("randomization.csv")),
            "--lots",
            s(&at("lots.toml")),
            "--out",
            s(&at(out)),
            "--ledger",
            s(&db),
            "--initials",
            "MH",
        ])
    };
    // Row 4 has a decimal comma: not planned, and said so on every document.
    let first = day(
        &format!("{ROW_1}{ROW_2}{}", ROW_3.replace("58 kg", "\"58,0 kg\"")),
        "first",
    );
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    assert!(stdout.starts_with("CARE-SSc day plan: 3 order rows, 2 planned, 1 not planned\n"));
    assert!(stdout.contains("--:--  row 4  CARE-003 month-0  NOT PLANNED: unit\n"));
    assert!(
        stdout.contains("recorded in the ledger: events 2 to 3\n"),
        "{stdout}"
    );
    assert_eq!(
        text(&first.stderr),
        "doseprep: 1 of 3 order rows not planned (see day.csv)\n"
    );
    // The file fixed: only row 4 is made; the others are already recorded.
    let fixed = day(&format!("{ROW_1}{ROW_2}{ROW_3}"), "fixed");
    assert_eq!(fixed.status.code(), Some(0), "{}", text(&fixed.stderr));
    assert!(text(&fixed.stdout).starts_with(
        "CARE-SSc day plan: 3 order rows, 1 planned, 2 already recorded, 0 not planned\n"
    ));
    assert!(text(&fixed.stdout).contains("recorded in the ledger: events 4 to 4\n"));
    // The plan is recorded, not the work: CARE-001's bag is made once its
    // container's thaw is.
    let bag = stdout
        .lines()
        .find(|line| line.contains("CARE-001 month-0  bag "))
        .and_then(|line| line.split("  bag ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_owned();
    let made = doseprep(&[
        "ledger",
        "prepare-planned",
        s(&db),
        &bag,
        "--at",
        "2026-11-25T09:10:00-05:00",
        "--initials",
        "MH",
    ]);
    assert_eq!(made.status.code(), Some(2), "{}", text(&made.stderr));
    assert!(
        text(&made.stderr).contains("record its session's thaw first (thaw)"),
        "{}",
        text(&made.stderr)
    );
    // Every bag printed again from the ledger alone, byte for byte.
    let again = doseprep(&[
        "reprint",
        s(&db),
        "--date",
        "2026-11-25",
        "--out",
        s(&at("again")),
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    let mut printed = files_of(&at("first").join("bags"));
    printed.extend(files_of(&at("fixed").join("bags")));
    assert_eq!(printed.len(), 9);
    assert_eq!(files_of(&at("again").join("bags")), printed);
    let verified = doseprep(&["ledger", "verify", s(&db)]);
    assert!(text(&verified.stdout).starts_with("ledger verified: 4 events, head "));
}

#[test]
fn an_output_folder_in_use_is_refused_before_anything_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    stocked_folder(dir.path());
    std::fs::write(at("orders.csv"), format!("{HEADER}{ROW_1}")).unwrap();
    let db = at("pharmacy.db");
    std::fs::create_dir(at("day")).unwrap();
    std::fs::write(at("day").join("old.txt"), "yesterday").unwrap();
    let refused = doseprep(&[
        "day",
        s(&at("orders.csv")),
        "--randomization",
        s(&at("randomization.csv")),
        "--lots",
        s(&at("lots.toml")),
        "--out",
        s(&at("day")),
        "--ledger",
        s(&db),
        "--initials",
        "MH",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        text(&refused.stderr),
        format!(
            "doseprep: the output folder {} already exists and is not an empty folder; give a new folder for these documents\n",
            at("day").display()
        )
    );
    let verified = doseprep(&["ledger", "verify", s(&db)]);
    assert!(text(&verified.stdout).starts_with("ledger verified: 1 events, head "));
}

#[test]
fn a_file_error_is_one_line_with_the_path_the_line_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let lot = dir.path().join("lot.toml");
    std::fs::write(
        &lot,
        "lot_id = \"UC-0042\"\nviable_cells_per_ml = \"12.5 million cells/mL\"\nviability = 93%\n",
    )
    .unwrap();
    let prepare = |lot: &Path| prepare_care_012(lot, "2026-11-25T09:00:00-05:00", &[]);
    let refused = prepare(&lot);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = text(&refused.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "doseprep: {}: lot file: the TOML cannot be read: line 3, column 13 (viability = 93%): ",
            lot.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("a lot gives lot_id, viable_cells_per_ml"),
        "{stderr}"
    );
    let missing = dir.path().join("no-such-lot.toml");
    assert_eq!(
        text(&prepare(&missing).stderr),
        format!(
            "doseprep: no such file: {}; check the path\n",
            missing.display()
        )
    );
}

#[test]
fn a_fault_of_the_system_exits_3_and_a_mistake_2() {
    let folder = tempfile::tempdir().unwrap();
    let db = folder.path().join("ledger.db");
    assert_eq!(doseprep(&["ledger", "init", s(&db)]).status.code(), Some(0));
    // A file cut short (a damaged disk, a partial copy): SQLite's code says
    // corrupt, and that is not the user's input to fix.
    let cut = folder.path().join("cut.db");
    std::fs::write(&cut, &std::fs::read(&db).unwrap()[..100]).unwrap();
    let damaged = doseprep(&["ledger", "verify", s(&cut)]);
    assert_eq!(damaged.status.code(), Some(3), "{}", text(&damaged.stderr));
    assert!(
        text(&damaged.stderr).contains("database disk image is malformed; the file is damaged"),
        "{}",
        text(&damaged.stderr)
    );
    // A path that is not there is the user's to fix.
    let missing = doseprep(&["ledger", "verify", s(&folder.path().join("none.db"))]);
    assert_eq!(missing.status.code(), Some(2), "{}", text(&missing.stderr));
}

#[test]
fn a_site_file_is_read_with_the_trial_and_keeps_the_trial_fingerprint() {
    let folder = tempfile::tempdir().unwrap();
    let lot = folder.path().join("lot.toml");
    std::fs::write(
        &lot,
        "lot_id = \"UC-0042\"\nviable_cells_per_ml = \"12.5 million cells/mL\"\nviability = 0.93\ncontainer_volume = \"10 mL\"\ncontainers = 4\ndmso_fraction = 0.05\n",
    )
    .unwrap();
    let paris = folder.path().join("paris.toml");
    std::fs::write(
        &paris,
        doseprep::protocol::CARE_SSC_DEFAULT_SITE_TOML
            .replace("\"America/Toronto\"", "\"Europe/Paris\""),
    )
    .unwrap();
    let prepare = |site: &Path| {
        prepare_care_012(
            &lot,
            "2026-11-25T09:00:00+01:00",
            &["--json", "--site", s(site)],
        )
    };
    let record = |site: &Path| {
        let run = prepare(site);
        assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
        serde_json::from_slice::<serde_json::Value>(&run.stdout).unwrap()
    };
    let default = folder.path().join("default.toml");
    std::fs::write(&default, doseprep::protocol::CARE_SSC_DEFAULT_SITE_TOML).unwrap();
    let (montreal, paris) = (record(&default), record(&paris));
    assert_eq!(montreal["trial_fingerprint"], paris["trial_fingerprint"]);
    assert_ne!(montreal["site_fingerprint"], paris["site_fingerprint"]);
    assert_eq!(
        paris["preparation"]["infuse_by"],
        "2026-11-25T12:00:00+01:00[Europe/Paris]"
    );
    // A trial fact in a site file is refused, naming where it belongs.
    let wrong = folder.path().join("wrong.toml");
    std::fs::write(&wrong, "route = \"IV\"\n").unwrap();
    let run = prepare(&wrong);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("is a trial fact, not a site setting"),
        "{}",
        text(&run.stderr)
    );
}

#[test]
fn the_version_and_a_missing_argument() {
    let version = doseprep(&["--version"]);
    assert_eq!(version.status.code(), Some(0));
    assert_eq!(
        text(&version.stdout),
        format!("doseprep {}\n", env!("CARGO_PKG_VERSION"))
    );
    let missing = doseprep(&[
        "ledger",
        "destroy",
        "x.db",
        "--reason",
        "r",
        "--at",
        "t",
        "--initials",
        "MH",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        text(&missing.stderr).contains("--bag"),
        "{}",
        text(&missing.stderr)
    );
}

#[test]
fn a_day_and_its_reprint_give_the_same_zpl_labels() {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let db = at("pharmacy.db");
    stocked_folder(dir.path());
    let protocols = Path::new(env!("CARGO_MANIFEST_DIR")).join("../doseprep/protocols");
    let zone = "time_zone = \"America/Toronto\"";
    let site = std::fs::read_to_string(protocols.join("sites/care-ssc-default.toml"))
        .unwrap()
        .replacen(zone, &format!("{zone}\nlabel_printer_dpi = 203"), 1);
    std::fs::write(at("site.toml"), site).unwrap();
    std::fs::write(at("orders.csv"), format!("{HEADER}{ROW_1}{ROW_2}{ROW_3}")).unwrap();
    let trial = protocols.join("care-ssc.toml");
    let day = |site: &Path, out: &str| {
        doseprep(&[
            "day",
            s(&at("orders.csv")),
            "--randomization",
            s(&at("randomization.csv")),
            "--lots",
            s(&at("lots.toml")),
            "--protocol",
            s(&trial),
            "--site",
            s(site),
            "--out",
            s(&at(out)),
            "--zpl",
            "--ledger",
            s(&db),
            "--initials",
            "MH",
        ])
    };
    // The default site names no label printer: refused, naming the setting.
    let refused = day(&protocols.join("sites/care-ssc-default.toml"), "refused");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("site.label_printer_dpi is not set"));
    let done = day(&at("site.toml"), "day");
    assert_eq!(done.status.code(), Some(0), "{}", text(&done.stderr));
    let zpl = text(&std::fs::read(at("day").join("labels.zpl")).unwrap());
    // One label a bag, 100 × 60 mm at 8 dots/mm.
    assert_eq!(zpl.matches("^XA\n^CI28\n^PW800\n^LL480\n").count(), 3);
    let again = doseprep(&[
        "reprint",
        s(&db),
        "--date",
        "2026-11-25",
        "--out",
        s(&at("again")),
        "--zpl",
    ]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&std::fs::read(at("again").join("labels.zpl")).unwrap()),
        zpl
    );
}
