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

/// A population of 600 persons plus a second keyed copy (source 3) of each
/// of the first 300: pairs sharing a valid key, from which m is learnt.
fn with_labelled_pairs() -> Records {
    let (mut r, _) = population(600);
    let (base, _) = population(300);
    for i in (0..base.len()).filter(|&i| base.key[i] != 0) {
        let v: Vec<Option<&str>> = (0..5)
            .map(|f| Some(base.fields[f].get(i)).filter(|s| !s.is_empty()))
            .collect();
        r.push(3, base.key[i], &v).unwrap();
    }
    r
}

#[test]
fn m_from_records_sharing_a_key_and_strangers_stay_apart() {
    let mut c = cfg();
    c.min_key_pairs = 100;
    // a second keyed copy of each of the first 300 persons: labelled pairs
    let mut r = with_labelled_pairs();
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

/// The population of `population(600)` plus labelled pairs (a second keyed
/// copy of 300 persons, so m comes from keys), `common` keyed residents all
/// named 王伟 (born 1950–1999, apart from everyone below), and two pairs of
/// unkeyed records without address or identifier, each pair the same name,
/// birth date and sex: one pair named 王伟, one with a rare name. Returns the
/// records and the indices of the two pairs.
fn namesakes(common: usize) -> (Records, MatchConfig, [usize; 2], [usize; 2]) {
    let mut c = cfg();
    c.min_key_pairs = 100;
    // Term frequencies on name and address, as a province would configure.
    for f in &mut c.fields {
        if f.name == "name" || f.name == "address" {
            f.term_frequency = Some(TermFrequency::default());
        }
    }
    let mut r = with_labelled_pairs();
    for k in 0..common {
        let birth = format!("19{:02}-{:02}-{:02}", 50 + k % 50, 1 + k % 12, 1 + k % 28);
        let sex = if k % 2 == 0 { "男" } else { "女" };
        let addr = format!("库尔勒市人民路{k}号");
        r.push(
            4,
            9_000_000 + k as u128,
            &[Some("王伟"), Some(&birth), Some(sex), Some(&addr), None],
        )
        .unwrap();
    }
    let mut pair = |name: &str| -> [usize; 2] {
        let at = r.len();
        for s in [5, 6] {
            r.push(
                s,
                0,
                &[Some(name), Some("2005-06-15"), Some("男"), None, None],
            )
            .unwrap();
        }
        [at, at + 1]
    };
    let common_pair = pair("王伟");
    let rare_pair = pair("欧阳娜娜");
    (r, c, common_pair, rare_pair)
}

#[test]
fn a_rare_name_is_stronger_evidence_than_a_common_one() {
    let (r, c, common, rare) = namesakes(200);
    let res = resolve(&r, &c).unwrap();
    assert_eq!(res.stats.m_source, "keys");
    assert_eq!(
        res.cluster[rare[0]], res.cluster[rare[1]],
        "two records of a rare name, born the same day, were not joined: {:?}",
        res.stats
    );
    assert_ne!(
        res.cluster[common[0]], res.cluster[common[1]],
        "two residents named 王伟 born the same day were joined: {:?}",
        res.stats
    );
    let ev = res
        .evidence
        .iter()
        .find(|e| [e.a as usize, e.b as usize] == rare)
        .unwrap();
    assert!(
        ev.fields[0].level.starts_with("exact (value frequency"),
        "{}",
        ev.explain()
    );

    // With one average u for every name the two pairs weigh the same, so
    // they cannot be told apart: term frequencies make the difference.
    let mut flat = c.clone();
    for f in &mut flat.fields {
        f.term_frequency = None;
    }
    let res = resolve(&r, &flat).unwrap();
    assert_eq!(
        res.cluster[rare[0]] == res.cluster[rare[1]],
        res.cluster[common[0]] == res.cluster[common[1]]
    );
}

#[test]
fn term_frequencies_are_counted_from_the_records() {
    let name_weight = |common: usize| {
        let (r, c, _, rare) = namesakes(common);
        let tf = frequency::TermFrequencies::count(&r, &c);
        // 王伟 is one of `common + 2` among all records with a name
        let present = (0..r.len())
            .filter(|&i| !r.fields[0].get(i).is_empty())
            .count();
        let wang = (0..r.len())
            .find(|&i| r.fields[0].get(i) == "王伟")
            .unwrap();
        let f = tf.frequency(0, wang).unwrap();
        assert!(
            (f - (common + 2) as f64 / present as f64).abs() < 1e-12,
            "{f}"
        );
        assert!(tf.frequency(0, rare[0]).unwrap() < f);
        // birth date is not adjusted; a missing value has no frequency
        assert!(tf.frequency(1, wang).is_none());
        assert!(tf.frequency(3, rare[0]).is_none());
        f
    };
    // the same value is more common, so agreeing on it weighs less
    assert!(name_weight(50) < name_weight(200));
}

#[test]
fn term_frequency_config_round_trips_and_old_configs_parse() {
    // Off by default (see `PERSONS`); a configuration that turns them on
    // round-trips with them.
    let mut c = MatchConfig::persons();
    assert!(c.fields.iter().all(|f| f.term_frequency.is_none()));
    for f in &mut c.fields {
        if f.name == "name" || f.name == "address" {
            f.term_frequency = Some(TermFrequency::default());
        }
    }
    let text = toml::to_string(&c).unwrap();
    assert_eq!(text.matches("term_frequency").count(), 2, "{text}");
    let back: MatchConfig = toml::from_str(&text).unwrap();
    assert_eq!(back, c);

    // a configuration written before term frequencies: none adjusted
    let old = r#"
fields = [{ name = "name", prepare = "name", comparison = { type = "exact" } }]
blocking = [[{ field = "name" }]]
"#;
    let old: MatchConfig = toml::from_str(old).unwrap();
    assert_eq!(old.fields[0].term_frequency, None);

    let floored = r#"
fields = [{ name = "name", comparison = { type = "exact" }, term_frequency = { min_u = 1e-6 } }]
blocking = [[{ field = "name" }]]
"#;
    let floored: MatchConfig = toml::from_str(floored).unwrap();
    assert_eq!(
        floored.fields[0].term_frequency,
        Some(TermFrequency { min_u: 1e-6 })
    );
    let typo = floored_text_with("term_frequency = { min = 1e-6 }");
    assert!(toml::from_str::<MatchConfig>(&typo).is_err());
    let mut bad = floored.clone();
    bad.fields[0].term_frequency = Some(TermFrequency { min_u: 1.5 });
    assert!(bad.validate().is_err());
}

fn floored_text_with(tf: &str) -> String {
    format!(
        "fields = [{{ name = \"name\", comparison = {{ type = \"exact\" }}, {tf} }}]\nblocking = [[{{ field = \"name\" }}]]\n"
    )
}

#[test]
fn a_floor_caps_how_rare_a_value_may_count() {
    let (r, mut c, _, rare) = namesakes(50);
    c.fields[0].term_frequency = Some(TermFrequency { min_u: 0.01 });
    let tf = frequency::TermFrequencies::count(&r, &c);
    assert_eq!(tf.frequency(0, rare[0]), Some(0.01));
}

#[test]
fn without_keys_em_estimates_the_prior_of_a_random_pair() {
    // population(600) with every key removed: fuzzy matching only
    let (keyed, truth) = population(600);
    let c = cfg();
    let mut r = Records::new(&c);
    for i in 0..keyed.len() {
        let v: Vec<Option<&str>> = (0..5)
            .map(|f| Some(keyed.fields[f].get(i)).filter(|s| !s.is_empty()))
            .collect();
        r.push(keyed.source[i], 0, &v).unwrap();
    }
    let res = resolve(&r, &c).unwrap();
    assert_eq!(res.stats.m_source, "em");
    // true matching pairs among all pairs of records
    let n = r.len();
    let mut same = 0usize;
    for i in 0..n {
        for j in i + 1..n {
            if truth[i] == truth[j] {
                same += 1;
            }
        }
    }
    let true_lambda = same as f64 / (n * (n - 1) / 2) as f64;
    // EM inside the blocks found most blocked pairs to match (λ ≈ 0.5) and
    // read the agreement blocking forces as evidence; λ is the prior of a
    // random pair, the one every candidate is scored against.
    assert!(
        res.stats.lambda > true_lambda / 2.0 && res.stats.lambda < true_lambda * 2.0,
        "λ {} for a true {true_lambda}",
        res.stats.lambda
    );
    let (mut fp, mut fnn) = (0, 0);
    for i in 0..n {
        for j in i + 1..n {
            match (truth[i] == truth[j], res.cluster[i] == res.cluster[j]) {
                (false, true) => fp += 1,
                (true, false) => fnn += 1,
                _ => {}
            }
        }
    }
    assert_eq!(fp, 0, "{:?}", res.stats);
    assert!(fnn * 50 < same, "missed {fnn} of {same}: {:?}", res.stats);
    // blocking fields keep their weight: a birth date agreed on is evidence
    let ev = &res.evidence[0];
    assert!(
        ev.fields[1].level == "exact" && ev.fields[1].weight > 0.0,
        "{}",
        ev.explain()
    );
}

/// Raw rows (source, key, values) of [`population`]'s kind, with the
/// preparations' edge cases: traditional characters, full-width digits,
/// missing and unparseable values.
fn raw_rows(people: usize) -> Vec<(u32, u128, [Option<String>; 5])> {
    let names = ["张伟", "劉芳", "艾力•買買提", " 王 静 ", "ＬＩ Ｎａ"];
    (0..people)
        .map(|p| {
            let v = [
                (p % 7 != 3).then(|| names[p % names.len()].to_string()),
                Some(match p % 4 {
                    0 => format!("19{:02}-{:02}-{:02}", 50 + p % 50, 1 + p % 12, 1 + p % 28),
                    1 => format!("１９９０年{}月{}日", 1 + p % 12, 1 + p % 28),
                    2 => "not a date".to_string(),
                    _ => String::new(),
                }),
                Some(["男", "女", "?", "F"][p % 4].to_string()),
                (p % 5 != 0).then(|| format!("乌鲁木齐市 天山區，{}号", p % 13)),
                (p % 3 == 0).then(|| format!(" 65010219{:02}0101{:03}x ", p % 90, p % 1000)),
            ];
            (
                (p % 3) as u32,
                if p % 2 == 0 { 1_000 + p as u128 } else { 0 },
                v,
            )
        })
        .collect()
}

fn push_rows(r: &mut Records, rows: &[(u32, u128, [Option<String>; 5])]) {
    for (s, k, v) in rows {
        let refs: Vec<Option<&str>> = v.iter().map(Option::as_deref).collect();
        r.push(*s, *k, &refs).unwrap();
    }
}

#[test]
fn records_appended_in_chunks_equal_records_pushed_in_order() {
    let c = cfg();
    let rows = raw_rows(500);
    let mut whole = Records::new(&c);
    push_rows(&mut whole, &rows);
    for chunk in [1, 7, 64, 499, 500, 1000] {
        let mut joined = Records::new(&c);
        for part in rows.chunks(chunk) {
            let mut r = Records::new(&c);
            push_rows(&mut r, part);
            joined.append(&r).unwrap();
        }
        // Appending nothing changes nothing.
        joined.append(&Records::new(&c)).unwrap();
        assert_eq!(joined.len(), whole.len());
        assert!(joined == whole, "chunks of {chunk} differ from one push");
        for f in 0..c.fields.len() {
            for i in 0..whole.len() {
                assert_eq!(joined.fields[f].get(i), whole.fields[f].get(i));
            }
        }
        let (a, b) = (resolve(&whole, &c).unwrap(), resolve(&joined, &c).unwrap());
        assert_eq!(a.cluster, b.cluster);
        assert_eq!(a.evidence, b.evidence);
    }
    // Not equal when one value differs.
    let mut other = Records::new(&c);
    let mut changed = rows.clone();
    changed[250].2[0] = Some("赵六".into());
    push_rows(&mut other, &changed);
    assert!(other != whole);
}

#[test]
fn room_made_before_appending_is_not_grown_into() {
    let c = cfg();
    let rows = raw_rows(300);
    let chunk = |part: &[_]| {
        let mut r = Records::new(&c);
        push_rows(&mut r, part);
        r
    };
    let (a, b, rest) = (
        chunk(&rows[..100]),
        chunk(&rows[100..200]),
        chunk(&rows[200..]),
    );
    let mut joined = Records::new(&c);
    joined.reserve(300);
    // Room for the first two chunks and, at their bytes per record, 100 more.
    joined.reserve_for(&[&a, &b], 100);
    let capacity: Vec<usize> = joined.fields.iter().map(|f| f.data_capacity()).collect();
    for (k, &cap) in capacity.iter().enumerate() {
        let bytes = a.fields[k].data_len() + b.fields[k].data_len();
        assert!(cap >= bytes + bytes / 2, "field {k}: {cap} < 1.5 × {bytes}");
    }
    joined.append(&a).unwrap();
    joined.append(&b).unwrap();
    joined.reserve_for(&[&rest], 0);
    joined.append(&rest).unwrap();
    let after: Vec<usize> = joined.fields.iter().map(|f| f.data_capacity()).collect();
    for (k, f) in joined.fields.iter().enumerate() {
        // Grown at most once, to exactly what it holds, when the estimate was short.
        assert!(
            after[k] == capacity[k] || after[k] == f.data_len(),
            "field {k} grew by doubling"
        );
    }
    let mut whole = Records::new(&c);
    push_rows(&mut whole, &rows);
    assert!(joined == whole);
}

#[test]
fn records_of_another_configuration_are_not_appended() {
    let c = cfg();
    let mut r = Records::new(&c);
    push_rows(&mut r, &raw_rows(10));
    let mut names_as_text = cfg();
    names_as_text.fields[0].prepare = Prepare::Text;
    let mut other = Records::new(&names_as_text);
    push_rows(&mut other, &raw_rows(10));
    let before = r.clone();
    let e = r.append(&other).unwrap_err();
    assert!(e.to_string().contains("prepared as"), "{e}");
    assert!(r == before, "a refused append changed the records");
}

/// Blocking passes run on several workers: the candidate pairs, the
/// skipped blocks and the resolution are those of one worker, and cluster
/// ids are dense, numbered in record order (each cluster by its first
/// record).
#[test]
fn blocking_on_several_workers_equals_one_worker_and_ids_are_dense_in_record_order() {
    let (r, _) = population(400);
    let mut one = cfg();
    one.threads = 1;
    one.max_block = 2; // the blocks of three copies are skipped as too large
    let passes = one.validate().unwrap();
    let (pairs_one, oversize_one) = candidate_pairs_inner(&r, &one, &passes);
    assert!(
        oversize_one > 0 && !pairs_one.is_empty(),
        "{oversize_one} skipped, {} pairs",
        pairs_one.len()
    );
    assert!(
        pairs_one.windows(2).all(|w| w[0] < w[1]),
        "sorted, no repeats"
    );
    let res_one = resolve(&r, &one).unwrap();
    for workers in [2, 3, 8] {
        let mut many = one.clone();
        many.threads = workers;
        let (pairs, oversize) = candidate_pairs_inner(&r, &many, &passes);
        assert_eq!(
            (&pairs, oversize),
            (&pairs_one, oversize_one),
            "{workers} workers"
        );
        let res = resolve(&r, &many).unwrap();
        assert_eq!(res.cluster, res_one.cluster, "{workers} workers");
    }
    let mut next = 0;
    let mut first_of = std::collections::HashMap::new();
    for (i, &c) in res_one.cluster.iter().enumerate() {
        let first = *first_of.entry(c).or_insert(i);
        if first == i {
            assert_eq!(c, next, "record {i} opens the next cluster id");
            next += 1;
        }
    }
    assert_eq!(next as usize, res_one.stats.clusters);
}
