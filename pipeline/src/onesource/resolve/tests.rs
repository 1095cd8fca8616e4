//! Unit tests of entity resolution: exact keys, probabilistic links,
//! blocking and configuration errors.

use super::*;

fn cfg() -> MatchConfig {
    let mut c = MatchConfig::persons();
    c.u_sample = 20_000;
    c
}

/// A small population: `people` persons, each with a keyed copy, plus
/// extra copies without keys (some with typos).
fn population(people: usize) -> (Records, Vec<u32>) {
    let c = cfg();
    let mut r = Records::new(&c);
    let mut truth = Vec::new();
    let surnames = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"];
    let given = [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
    ];
    for p in 0..people {
        let name = format!(
            "{}{}{}",
            surnames[p % 10],
            given[(p / 10) % 12],
            given[(p / 120 + 3) % 12]
        );
        let birth = format!(
            "19{:02}-{:02}-{:02}",
            50 + p % 50,
            1 + p % 12,
            1 + (p * 7) % 28
        );
        let sex = if p % 2 == 0 { "男" } else { "女" };
        let addr = format!("乌鲁木齐市天山区{}路{}号", surnames[(p * 3) % 10], p % 97);
        let key = 1_000_000 + p as u128;
        r.push(
            0,
            key,
            &[Some(&name), Some(&birth), Some(sex), Some(&addr), None],
        )
        .unwrap();
        truth.push(p as u32);
        // an unkeyed copy with the same attributes
        r.push(
            1,
            0,
            &[Some(&name), Some(&birth), Some(sex), Some(&addr), None],
        )
        .unwrap();
        truth.push(p as u32);
        if p % 3 == 0 {
            // an unkeyed copy with a birth-date typo and traditional name
            let typo = format!(
                "19{:02}-{:02}-{:02}",
                50 + p % 50,
                1 + p % 12,
                1 + (p * 7 + 1) % 28
            );
            let trad: String = name.replace('张', "張").replace('刘', "劉");
            r.push(
                2,
                0,
                &[Some(&trad), Some(&typo), Some(sex), Some(&addr), None],
            )
            .unwrap();
            truth.push(p as u32);
        }
    }
    (r, truth)
}

#[test]
fn the_embedded_person_config_parses() {
    let c = MatchConfig::persons();
    assert_eq!(c.fields.len(), 5);
    assert!(c.validate().is_ok());
}

#[test]
fn exact_keys_group_and_different_keys_never_join() {
    let c = cfg();
    let mut r = Records::new(&c);
    let same = [
        Some("张三"),
        Some("1990-01-01"),
        Some("男"),
        Some("天山区"),
        None,
    ];
    r.push(0, 7, &same).unwrap();
    r.push(1, 7, &same).unwrap();
    r.push(2, 8, &same).unwrap(); // identical attributes, different key
    let res = resolve(&r, &c).unwrap();
    assert_eq!(res.cluster[0], res.cluster[1]);
    assert_ne!(res.cluster[0], res.cluster[2]);
}

#[test]
fn unkeyed_copies_join_their_person_with_evidence() {
    let (r, truth) = population(600);
    let res = resolve(&r, &cfg()).unwrap();
    let (mut tp, mut fp, mut fnn) = (0, 0, 0);
    for i in 0..r.len() {
        for j in i + 1..r.len() {
            let same_truth = truth[i] == truth[j];
            let same_cluster = res.cluster[i] == res.cluster[j];
            match (same_truth, same_cluster) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fnn += 1,
                _ => {}
            }
        }
    }
    assert_eq!(fp, 0, "false matches: {:?}", res.stats);
    assert!(fnn * 50 < tp, "recall too low: tp {tp} fn {fnn}");
    let ev = &res.evidence[0];
    assert!(ev.probability >= 0.99);
    let text = ev.explain();
    assert!(
        text.contains("name") && text.contains("birth_date"),
        "{text}"
    );
    // no quadratic comparison: candidates are a small fraction of all pairs
    let n = r.len();
    assert!(
        res.stats.candidate_pairs < n * (n - 1) / 2 / 20,
        "{:?}",
        res.stats
    );
}

#[test]
fn m_from_records_sharing_a_key_and_strangers_stay_apart() {
    let mut c = cfg();
    c.min_key_pairs = 100;
    let (mut r, _) = population(600);
    // a second keyed copy of each of the first 300 persons: labelled pairs
    let (base, _) = population(300);
    for i in (0..base.len()).filter(|&i| base.key[i] != 0) {
        let v: Vec<Option<&str>> = (0..5)
            .map(|f| Some(base.fields[f].get(i)).filter(|s| !s.is_empty()))
            .collect();
        r.push(3, base.key[i], &v).unwrap();
    }
    // a stranger: same birth date and surname as person 0, nothing else
    let birth0 = r.fields[1].get(0).to_string();
    let stranger = r.len();
    r.push(
        4,
        0,
        &[
            Some("张某某"),
            Some(&birth0),
            Some("女"),
            Some("拉萨市北京路1号"),
            None,
        ],
    )
    .unwrap();
    let res = resolve(&r, &c).unwrap();
    assert_eq!(res.stats.m_source, "keys");
    assert!(res.stats.lambda < 0.01, "{:?}", res.stats);
    let alone = res
        .cluster
        .iter()
        .filter(|&&x| x == res.cluster[stranger])
        .count();
    assert_eq!(alone, 1, "the stranger joined someone: {:?}", res.stats);
    // the unkeyed copies still join their persons
    assert_eq!(res.cluster[0], res.cluster[1]);
}

#[test]
fn link_only_skips_pairs_within_a_source() {
    let mut c = cfg();
    c.link_only = true;
    let mut r = Records::new(&c);
    let v = [
        Some("张三"),
        Some("1990-01-01"),
        Some("男"),
        Some("天山区"),
        None,
    ];
    r.push(0, 0, &v).unwrap();
    r.push(0, 0, &v).unwrap();
    assert!(candidate_pairs(&r, &c).unwrap().is_empty());
}

#[test]
fn oversize_blocks_are_counted_not_compared() {
    let mut c = cfg();
    c.max_block = 3;
    c.blocking = vec![vec![BlockKey {
        field: "sex".into(),
        prefix: None,
    }]];
    let mut r = Records::new(&c);
    for _ in 0..5 {
        r.push(0, 0, &[Some("张三"), None, Some("男"), None, None])
            .unwrap();
    }
    let res = resolve(&r, &c).unwrap();
    assert_eq!(res.stats.candidate_pairs, 0);
    assert_eq!(res.stats.oversize_blocks, 1);
}

#[test]
fn bad_config_is_an_error_not_a_panic() {
    let mut c = cfg();
    c.blocking = vec![vec![BlockKey {
        field: "nope".into(),
        prefix: None,
    }]];
    let r = Records::new(&c);
    let e = resolve(&r, &c).unwrap_err().to_string();
    assert!(e.contains("nope"), "{e}");
    let mut c = cfg();
    c.fields[0].m = Some(vec![0.5]);
    assert!(resolve(&Records::new(&c), &c).is_err());
}
