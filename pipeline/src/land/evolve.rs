//! Schema evolution of a landed table (issue #23, 7): a dataset definition
//! that declares a new column adds it to the table, nullable (rows landed
//! before have no value), as its own commit before the delivery lands; a
//! column no longer declared stays in the table and is NULL in new rows; a
//! column whose type changed is refused with what to do.

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::datatypes::SchemaRef;
use deltalake::DeltaTable;
use deltalake::kernel::StructField;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;

use super::error::LandError;
use crate::dataset::DatasetDef;

/// Brings `table` to the declared `schema`: adds declared columns it lacks
/// and returns them (empty: nothing changed).
pub(crate) async fn evolve(
    table: &mut DeltaTable,
    schema: &SchemaRef,
    dataset: &DatasetDef,
) -> Result<Vec<String>, LandError> {
    let path = dataset.data_path();
    let current = table
        .snapshot()
        .map_err(|e| LandError::lake(&path, e))?
        .schema();
    let mut added: Vec<StructField> = vec![];
    for f in schema.fields() {
        let declared: StructField = f
            .as_ref()
            .try_into_kernel()
            .map_err(|e| LandError::lake(&path, e))?;
        match current.field(f.name()) {
            Some(old) if old.data_type() != declared.data_type() => {
                return Err(LandError::Config(format!(
                    "dataset {}: column `{}` was landed as {} and is now declared {}: a table \
                     cannot change a column's type; declare the old type again, or land the new \
                     type under a new column name (the old column stays, NULL in new rows)",
                    dataset.id(),
                    f.name(),
                    old.data_type(),
                    declared.data_type()
                )));
            }
            Some(_) => {}
            None => added.push(StructField::new(
                declared.name().clone(),
                declared.data_type().clone(),
                true,
            )),
        }
    }
    if added.is_empty() {
        return Ok(vec![]);
    }
    let names: Vec<String> = added.iter().map(|f| f.name().clone()).collect();
    let evolved = table
        .clone()
        .add_columns()
        .with_fields(added)
        .await
        .map_err(|e| LandError::lake(&path, e))?;
    *table = evolved;
    tracing::info!(dataset = %dataset.id(), columns = ?names, "new columns added to the landed table");
    Ok(names)
}

/// A conformed batch in the table's column order; a table column the batch
/// lacks (no longer declared) is NULL.
pub(crate) fn align(batch: RecordBatch, table: &SchemaRef) -> Result<RecordBatch, LandError> {
    if batch.schema().fields() == table.fields() {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = table
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) => c.clone(),
            None => new_null_array(f.data_type(), batch.num_rows()),
        })
        .collect();
    RecordBatch::try_new(table.clone(), columns).map_err(|e| LandError::lake("align", e))
}
