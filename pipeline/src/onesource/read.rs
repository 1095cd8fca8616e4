//! How the one-source stage reads a dataset from the lake: the columns its
//! `[onesource]` section names, each once, as text, in table order.

use arrow::array::RecordBatch;
use arrow::datatypes::DataType;

use super::OneSourceError;
use super::def::OneSourceDef;
use super::registry::AuthorityRegistry;
use super::text::TextColumn;
use crate::dataset::DatasetDef;
use crate::land::Lake;

/// One dataset read from the lake: per row its raw key, matching values,
/// attribute values, recency and lineage row. Text columns stay Arrow
/// arrays (no string per cell); a column named twice (a matching field that
/// is also an attribute) is held once.
pub(super) struct Loaded {
    pub(super) def: DatasetDef,
    pub(super) os: OneSourceDef,
    pub(super) keys: TextColumn,
    pub(super) matching: [TextColumn; 4],
    /// (attribute id, column, values)
    pub(super) attributes: Vec<(String, String, TextColumn)>,
    /// Persons: each row's document type and nationality, when declared.
    pub(super) document_types: TextColumn,
    pub(super) nationalities: TextColumn,
    pub(super) recency: Vec<i64>,
    pub(super) rows: Vec<u64>,
}

pub(super) async fn load(
    lake: &Lake,
    def: &DatasetDef,
    os: &OneSourceDef,
    registry: &AuthorityRegistry,
) -> Result<Option<Loaded>, OneSourceError> {
    let data_err = |m: String| OneSourceError::Data {
        dataset: def.id(),
        message: m,
    };
    let declared: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
    let check = |c: &str, what: &str| -> Result<(), OneSourceError> {
        if declared.contains(&c) {
            Ok(())
        } else {
            Err(data_err(format!(
                "[onesource] {what} = `{c}` is not a declared column (columns: {})",
                declared.join(", ")
            )))
        }
    };
    check(&os.key, "key")?;
    let matching_cols = [&os.name, &os.birth_date, &os.sex, &os.address];
    for (c, what) in matching_cols
        .iter()
        .zip(["name", "birth_date", "sex", "address"])
    {
        if let Some(c) = c {
            check(c, what)?;
        }
    }
    if let Some(c) = &os.updated_at {
        check(c, "updated_at")?;
    }
    if let Some(c) = &os.document_type {
        check(c, "document_type")?;
    }
    if let Some(c) = &os.nationality {
        check(c, "nationality")?;
    }
    // attributes: explicit, then by registry column name
    let mut attrs: Vec<(String, String)> = Vec::new();
    for (a, c) in &os.attributes {
        if !registry.attributes.contains_key(a) {
            return Err(data_err(format!(
                "[onesource] attributes: `{a}` is not an attribute of the authority registry"
            )));
        }
        check(c, &format!("attributes.{a}"))?;
        attrs.push((a.clone(), c.clone()));
    }
    for c in &declared {
        let document_cols = [&os.document_type, &os.nationality];
        if *c == os.key
            || document_cols.iter().any(|d| d.as_deref() == Some(*c))
            || attrs.iter().any(|(_, x)| x == c)
        {
            continue;
        }
        if let Some(a) = registry.attribute_for_column(c)
            && !attrs.iter().any(|(x, _)| *x == a.id)
        {
            attrs.push((a.id.clone(), c.to_string()));
        }
    }
    // Never silence: an attribute no item of the registry owns has no
    // source to be held to (a profile whose text has no list, and no
    // authority.toml, owns none).
    let orphans: Vec<&str> = attrs
        .iter()
        .filter(|(a, _)| registry.owner_of(a).is_none())
        .map(|(a, _)| a.as_str())
        .collect();
    if registry.is_empty() {
        let what = if orphans.is_empty() {
            "its subjects".to_string()
        } else {
            orphans.join(", ")
        };
        return Err(data_err(format!(
            "[onesource] no item of the authority registry is the source of {what}: {}; {}",
            registry.provenance(),
            super::registry::ADD_TO_WORKSPACE
        )));
    }
    if let Some((a, _)) = os
        .attributes
        .iter()
        .find(|(a, _)| registry.owner_of(a).is_none())
    {
        return Err(data_err(format!(
            "[onesource] attributes: no item of the authority registry owns `{a}` ({}); {}",
            registry.provenance(),
            super::registry::ADD_TO_WORKSPACE
        )));
    }
    let Some(table) = lake.open_table(&def.data_path()).await? else {
        return Ok(None);
    };
    drop(table);
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    // Every column read once, whatever roles it has.
    let mut columns: Vec<String> = Vec::new();
    let mut slot = |c: &str| -> usize {
        if let Some(i) = columns.iter().position(|x| x == c) {
            return i;
        }
        columns.push(c.to_string());
        columns.len() - 1
    };
    let key_at = slot(&os.key);
    let matching_at: Vec<Option<usize>> = matching_cols
        .iter()
        .map(|c| c.as_deref().map(&mut slot))
        .collect();
    let updated_at = os.updated_at.as_deref().map(&mut slot);
    let row_at = slot(crate::land::conform::ROW_COLUMN);
    let delivery_at = slot(crate::land::conform::DELIVERY_COLUMN);
    let document_at = os.document_type.as_deref().map(&mut slot);
    let nationality_at = os.nationality.as_deref().map(&mut slot);
    let attribute_at: Vec<usize> = attrs.iter().map(|(_, c)| slot(c)).collect();
    let select: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS c{i}", quote(c)))
        .collect();
    let sql = format!("SELECT {} FROM t", select.join(", "));
    let batches = lake.sql(&[("t", &def.data_path())], &sql).await?;
    // A scan on several cores returns a table's batches in whichever order
    // they finish: records are put in table order (delivery, then row), so
    // that a run over the same data resolves the same records in the same
    // order and numbers its subjects alike.
    let (batches, order) = table_order(batches, delivery_at, row_at).map_err(data_err)?;
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let rows = row_numbers(&batches, row_at, order.as_ref()).map_err(data_err)?;
    let wanted: Vec<usize> = (0..columns.len())
        .filter(|&i| i != row_at && i != delivery_at)
        .collect();
    let mut text: Vec<TextColumn> = (0..columns.len()).map(|_| TextColumn::missing(0)).collect();
    for (i, column) in text_columns(&batches, &wanted, n, order.as_ref()) {
        text[i] = column.map_err(data_err)?;
    }
    drop(batches);
    let column = |at: Option<usize>| at.map_or_else(|| TextColumn::missing(n), |i| text[i].clone());
    let recency = column(updated_at);
    let recency = (0..n)
        .map(|i| {
            recency
                .get(i)
                .and_then(super::normalize::normalize_date)
                .map_or(0, i64::from)
        })
        .collect();
    Ok(Some(Loaded {
        def: def.clone(),
        os: os.clone(),
        keys: text[key_at].clone(),
        matching: std::array::from_fn(|k| column(matching_at[k])),
        attributes: attrs
            .into_iter()
            .zip(&attribute_at)
            .map(|((a, c), &at)| (a, c, text[at].clone()))
            .collect(),
        document_types: column(document_at),
        nationalities: column(nationality_at),
        recency,
        rows,
    }))
}

/// Columns `wanted` of `batches` (`n` rows) as text, in table `order`:
/// on every core, a column at a time each (a column whose values repeat is
/// hashed into a dictionary, the costly part), the columns in no order.
fn text_columns(
    batches: &[RecordBatch],
    wanted: &[usize],
    n: usize,
    order: Option<&arrow::array::UInt64Array>,
) -> Vec<(usize, Result<TextColumn, String>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let one = |i: usize| -> Result<TextColumn, String> {
        let column = TextColumn::read(batches, i, n)?;
        match order {
            Some(order) => column.take(order),
            None => Ok(column),
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(wanted.len());
    if threads <= 1 {
        return wanted.iter().map(|&i| (i, one(i))).collect();
    }
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&i) = wanted.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((i, one(i)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// A batch's delivery and row columns, the key of table order.
pub(super) struct OrderKeys {
    pub(super) delivery: arrow::array::LargeStringArray,
    pub(super) row: arrow::array::Int64Array,
}

impl OrderKeys {
    fn of(batch: &RecordBatch, delivery: usize, row: usize) -> Result<OrderKeys, String> {
        use arrow::array::AsArray;
        let cast = |i: usize, to: &DataType| {
            arrow::compute::cast(batch.column(i), to).map_err(|e| e.to_string())
        };
        Ok(OrderKeys {
            delivery: cast(delivery, &DataType::LargeUtf8)?
                .as_string::<i64>()
                .clone(),
            row: cast(row, &DataType::Int64)?
                .as_primitive::<arrow::datatypes::Int64Type>()
                .clone(),
        })
    }

    fn len(&self) -> usize {
        self.row.len()
    }

    /// Row `i`'s key (a missing delivery or row sorts first).
    fn key(&self, i: usize) -> (Option<&str>, Option<i64>) {
        use arrow::array::Array;
        (
            self.delivery.is_valid(i).then(|| self.delivery.value(i)),
            self.row.is_valid(i).then(|| self.row.value(i)),
        )
    }

    fn in_order(&self) -> bool {
        (1..self.len()).all(|i| self.key(i - 1) <= self.key(i))
    }
}

/// Puts a scan's batches in table order, by delivery and then row in the
/// delivery. A scan returns each file's rows in order, so as a rule putting
/// the batches in order is enough (nothing is copied); when it is not (a
/// batch out of order within itself, or two that overlap) the batches are
/// left as they came and the order of every row of their concatenation is
/// returned too.
pub(super) fn table_order(
    batches: Vec<RecordBatch>,
    delivery: usize,
    row: usize,
) -> Result<(Vec<RecordBatch>, Option<arrow::array::UInt64Array>), String> {
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    let keys = batches
        .iter()
        .map(|b| OrderKeys::of(b, delivery, row))
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_first: Vec<usize> = (0..batches.len()).collect();
    by_first.sort_by(|&a, &b| keys[a].key(0).cmp(&keys[b].key(0)));
    let batches_suffice = keys.iter().all(OrderKeys::in_order)
        && by_first.windows(2).all(|w| {
            let before = &keys[w[0]];
            before.key(before.len() - 1) <= keys[w[1]].key(0)
        });
    if batches_suffice {
        let mut slots: Vec<Option<RecordBatch>> = batches.into_iter().map(Some).collect();
        let ordered = by_first.iter().filter_map(|&b| slots[b].take()).collect();
        return Ok((ordered, None));
    }
    let all: Vec<(Option<&str>, Option<i64>)> = keys
        .iter()
        .flat_map(|k| (0..k.len()).map(|i| k.key(i)))
        .collect();
    let mut order: Vec<u64> = (0..all.len() as u64).collect();
    order.sort_by(|&a, &b| all[a as usize].cmp(&all[b as usize]));
    drop(all);
    drop(keys);
    Ok((batches, Some(order.into())))
}

/// Each row's number in its delivery (its position as read when it has
/// none), in the order `order` gives, if any.
pub(super) fn row_numbers(
    batches: &[RecordBatch],
    row: usize,
    order: Option<&arrow::array::UInt64Array>,
) -> Result<Vec<u64>, String> {
    use arrow::array::{Array, AsArray};
    let mut rows: Vec<u64> = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for b in batches {
        let column =
            arrow::compute::cast(b.column(row), &DataType::Int64).map_err(|e| e.to_string())?;
        let column = column.as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..column.len() {
            let at = rows.len() as u64;
            rows.push(if column.is_valid(i) {
                u64::try_from(column.value(i)).unwrap_or(at)
            } else {
                at
            });
        }
    }
    Ok(match order {
        Some(order) => order.values().iter().map(|&i| rows[i as usize]).collect(),
        None => rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::onesource::output::{schema, utf8};
    use arrow::datatypes::Field;
    use std::sync::Arc;

    /// Batches of (delivery, row, value) as a scan returns them.
    fn scanned(batches: &[&[(&str, i64)]]) -> Vec<RecordBatch> {
        use arrow::array::{Int64Array, StringArray};
        let schema = schema(vec![
            utf8("_pdq_delivery"),
            Field::new("_pdq_row", DataType::Int64, true),
            utf8("value"),
        ]);
        batches
            .iter()
            .map(|rows| {
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                        Arc::new(StringArray::from_iter_values(
                            rows.iter().map(|r| format!("{}:{}", r.0, r.1)),
                        )),
                    ],
                )
                .unwrap()
            })
            .collect()
    }

    /// The values in table order, as `load` reads them.
    fn in_table_order(batches: Vec<RecordBatch>) -> (bool, Vec<u64>, Vec<String>) {
        let (batches, order) = table_order(batches, 0, 1).unwrap();
        let n = batches.iter().map(RecordBatch::num_rows).sum();
        let rows = row_numbers(&batches, 1, order.as_ref()).unwrap();
        let mut values = TextColumn::read(&batches, 2, n).unwrap();
        if let Some(order) = &order {
            values = values.take(order).unwrap();
        }
        let values = values.values().map(|v| v.unwrap().to_string()).collect();
        (order.is_some(), rows, values)
    }

    #[test]
    fn rows_read_in_any_order_are_put_in_table_order() {
        let expected: Vec<String> = ["d1:1", "d1:2", "d1:3", "d2:0", "d2:1"]
            .map(String::from)
            .to_vec();
        // Each batch in order, the batches not: reordered whole, no row sorted.
        let (sorted_rows, rows, values) = in_table_order(scanned(&[
            &[("d2", 0), ("d2", 1)],
            &[],
            &[("d1", 3)],
            &[("d1", 1), ("d1", 2)],
        ]));
        assert!(!sorted_rows, "putting the batches in order was enough");
        assert_eq!((rows, values), (vec![1, 2, 3, 0, 1], expected.clone()));
        // Rows of two batches interleaved, and one batch out of order within.
        for batches in [
            scanned(&[&[("d1", 1), ("d1", 3)], &[("d1", 2), ("d2", 0), ("d2", 1)]]),
            scanned(&[&[("d2", 1), ("d1", 3), ("d1", 1)], &[("d1", 2), ("d2", 0)]]),
        ] {
            let (sorted_rows, rows, values) = in_table_order(batches);
            assert!(sorted_rows, "every row had to be sorted");
            assert_eq!((rows, values), (vec![1, 2, 3, 0, 1], expected.clone()));
        }
        // In order already: nothing to do.
        let (sorted_rows, rows, _) = in_table_order(scanned(&[&[("d1", 1), ("d1", 2)]]));
        assert!(!sorted_rows);
        assert_eq!(rows, vec![1, 2]);
    }
}
