//! The demo's objections (异议): four, filed after its sweep against the
//! data it landed, in different states as of the demo's date — one upheld
//! and overdue for correction, one rejected and closed, one just filed,
//! one whose "correction" did not reach the data and was re-opened.

use chrono::{DateTime, Utc};

use super::DemoPerson;
use crate::objection::stage::{Desk, Filing};
use crate::objection::{Objection, ObjectionError, Reporter};
use crate::workspace::Workspace;

const DATASET: &str = "gongan.household_registration";
const ACTOR: &str = "demo";

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

fn filing(person: &DemoPerson, field: &str, what: &str, reporter: Reporter) -> Filing {
    Filing {
        dataset: Some(DATASET.into()),
        entry: None,
        row: Some(("id_number".into(), person.id.clone())),
        field: Some(field.into()),
        what: what.into(),
        reporter: Some(reporter),
        reporter_department: (reporter == Reporter::Department).then(|| "minzheng".into()),
        contact: (reporter == Reporter::Citizen).then(|| "13900139000".into()),
    }
}

/// Files the demo's objections and checks the corrected one against the
/// data; returns them as of the demo's date.
pub async fn file(
    ws: &Workspace,
    persons: &[DemoPerson],
    as_of: DateTime<Utc>,
) -> Result<Vec<Objection>, ObjectionError> {
    let [p0, p1, p2, p3, ..] = persons else {
        return Err(ObjectionError::Invalid(
            "the demo has fewer than four persons".into(),
        ));
    };
    let desk = Desk::open(ws)?;
    let gongan = Some("gongan");
    // Upheld, not corrected: past the rectification deadline on the demo's date.
    let a = desk
        .file(
            &filing(
                p0,
                "name",
                "姓名用字有误，应与居民身份证一致",
                Reporter::Citizen,
            ),
            ACTOR,
            at("2026-11-02T09:30:00+08:00"),
        )
        .await?;
    desk.forward(&a.id, None, ACTOR, at("2026-11-03T10:00:00+08:00"))
        .await?;
    desk.answer(
        &a.id,
        gongan,
        true,
        "",
        ACTOR,
        at("2026-11-04T15:00:00+08:00"),
    )
    .await?;
    // Rejected with the reason, and closed.
    let b = desk
        .file(
            &filing(p1, "address", "住址与婚姻登记不一致", Reporter::Department),
            ACTOR,
            at("2026-11-10T11:00:00+08:00"),
        )
        .await?;
    desk.answer(
        &b.id,
        gongan,
        false,
        "经核实，户籍登记住址正确；婚姻登记为登记时住址",
        ACTOR,
        at("2026-11-12T16:00:00+08:00"),
    )
    .await?;
    desk.close(
        &b.id,
        Some("已答复民政局"),
        ACTOR,
        at("2026-11-13T09:00:00+08:00"),
    )
    .await?;
    // "Corrected", but the value is still in the data: re-opened.
    let d = desk
        .file(
            &filing(p3, "name", "姓名错别字", Reporter::Citizen),
            ACTOR,
            at("2026-11-05T14:00:00+08:00"),
        )
        .await?;
    desk.forward(&d.id, None, ACTOR, at("2026-11-05T16:00:00+08:00"))
        .await?;
    desk.answer(
        &d.id,
        gongan,
        true,
        "",
        ACTOR,
        at("2026-11-06T10:00:00+08:00"),
    )
    .await?;
    desk.correct(
        &d.id,
        gongan,
        "2026-11-10 报送",
        Some("已在业务系统更正"),
        ACTOR,
        at("2026-11-09T10:00:00+08:00"),
    )
    .await?;
    // Just filed by the bureau's own review.
    desk.file(
        &filing(p2, "phone", "联系电话位数不足", Reporter::Bureau),
        ACTOR,
        at("2026-11-18T09:00:00+08:00"),
    )
    .await?;
    desk.check(ACTOR, as_of).await?;
    desk.all(as_of).await
}
