//! The demo's usage log (共享/使用日志): the sharing platform's export of a
//! few uses of the household register, of the marriage register's catalog
//! entry and of 养老机构备案 (the entry the portal withdraws on the final
//! night: [`super::catalogs::WITHDRAWN_CODE`]), with one row the platform
//! exported without a consumer (quarantined on import). `pdq demo` imports
//! it before the final night's sweep, so that sweep's catalog shows the
//! withdrawal with consumers and its scorecards the log's incomplete rows.
//! The operators are demo persons: every output masks them, and the demo's
//! leak scans look for their names.

use std::path::Path;

use super::{DemoError, DemoPerson, write};

/// The export, in the workspace.
pub const FILE: &str = "usage/共享平台使用日志.csv";

/// Writes [`FILE`] under `root`.
pub fn write(root: &Path, persons: &[DemoPerson]) -> Result<(), DemoError> {
    let who = |i: usize| persons.get(i).map(|p| p.name.as_str()).unwrap_or("");
    let text = format!(
        "使用时间,使用部门,数据资源,使用目的,操作人,应用场景,存储情况\n\
         2026-11-05 09:12:00,minzheng,gongan.household_registration,婚姻登记户籍核验,{},婚姻登记,本地加密存储\n\
         2026-11-10 15:30:00,renshe,gongan.household_registration,社保参保身份核验,{},社保参保,\n\
         2026-11-12 10:05:00,gongan,A0102-0001,婚姻状况核验,{},,\n\
         2026-11-13 11:00:00,,gongan.household_registration,核验,{},,\n\
         2026-11-06 14:20:00,renshe,{withdrawn},养老保险待遇资格核验,{},养老待遇认证,\n\
         2026-11-11 16:45:00,weijian,{withdrawn},医养结合机构核查,{},医养结合,\n",
        who(0),
        who(1),
        who(2),
        who(3),
        who(4),
        who(5),
        withdrawn = super::catalogs::WITHDRAWN_CODE,
    );
    write::text(&root.join(FILE), &text)
}
