//! The demo bureau's catalogs, with the mistakes real departments make: a
//! spreadsheet template from the public-security bureau (title rows, merged
//! provider and resource cells, blank rows, trailing and full-width spaces,
//! an unknown column), a portal export in JSON with Chinese keys and epoch
//! milliseconds, a CKAN `package_search` page and a DCAT-AP document from
//! the open-data portal. Deliberate findings: a duplicate resource code, a
//! classified marking, 有条件共享 without conditions or legal basis (新疆
//! 第十九条 requires both), 不予共享 without a basis, personal data in a
//! 无条件开放 resource, an unknown frequency, a missing required field, an
//! entry with no data mounted, a landed dataset with no entry, and schema
//! drift (a catalogued column missing, a landed column not catalogued, a
//! type and a length that differ).

use std::path::Path;

use rust_xlsxwriter::Format;

use super::write;
use super::{DemoDataset, DemoError};

/// Chinese names of the demo's columns.
fn zh(col: &str) -> &str {
    match col {
        "account_no" => "公积金账号",
        "address" => "住址",
        "balance" => "账户余额",
        "birth_date" => "出生日期",
        "birth_weight_g" => "出生体重",
        "cert_no" => "证书编号",
        "child_name" => "新生儿姓名",
        "contribution_base" => "缴费基数",
        "credit_code" => "统一社会信用代码",
        "death_date" => "死亡日期",
        "entity_name" => "市场主体名称",
        "established_date" => "成立日期",
        "hospital_uscc" => "医疗机构代码",
        "husband_id" => "男方公民身份号码",
        "husband_name" => "男方姓名",
        "id_number" => "公民身份号码",
        "insured_date" => "参保日期",
        "legal_rep" => "法定代表人",
        "legal_rep_id" => "法定代表人身份号码",
        "marital_status" => "婚姻状况",
        "mother_id" => "母亲公民身份号码",
        "name" => "姓名",
        "phone" => "联系电话",
        "region_code" => "行政区划代码",
        "register_date" => "登记日期",
        "registered_capital" => "注册资本",
        "remark" => "备注",
        "sex_code" => "性别代码",
        "status" => "状态",
        "unit_uscc" => "单位统一社会信用代码",
        "updated_at" => "更新时间",
        "wife_id" => "女方公民身份号码",
        "wife_name" => "女方姓名",
        other => other,
    }
}

fn zh_type(ty: &str) -> &'static str {
    match ty {
        "date" => "日期型",
        "timestamp" => "日期时间型",
        "float64" | "int64" => "数值型",
        _ => "字符型",
    }
}

fn is_personal(col: &str) -> bool {
    col.contains("id")
        || col.contains("name")
        || col == "phone"
        || col == "address"
        || ["联系人", "代表人", "电话"].iter().any(|w| col.contains(w))
}

fn find<'a>(datasets: &'a [DemoDataset], name: &str) -> Option<&'a DemoDataset> {
    datasets.iter().find(|d| d.name == name)
}

fn enc(path: &Path, e: impl std::fmt::Display) -> DemoError {
    DemoError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// The resource code each demo dataset is mounted to (`catalog = …` in its
/// definition); the housing fund is deliberately left uncatalogued.
pub fn code_of(dataset: &str) -> Option<&'static str> {
    match dataset {
        "household_registration" => Some("A0101-0001"),
        "marriage_registration" => Some("A0102-0001"),
        "social_insurance" => Some("A0104-0001"),
        "market_entities" => Some("A0105-0001"),
        // Birth certificates are mounted by name (资源名称 = its title).
        _ => None,
    }
}

/// Writes `catalogs/` under `root`.
pub fn write(root: &Path, datasets: &[DemoDataset]) -> Result<(), DemoError> {
    gongan_template(root, datasets)?;
    portal(root, datasets)?;
    ckan(root)?;
    dcat(root)?;
    write::text(
        &root.join("catalog-curation.toml"),
        "# 数据局对目录的修订：采集不会覆盖这些字段 / the bureau's curation: harvests never overwrite these fields\n\
         [[entry]]\ncode = \"A0105-0001\"\nfields = { share_scope = \"全市政务部门\" }\n",
    )?;
    Ok(())
}

fn gongan_template(root: &Path, datasets: &[DemoDataset]) -> Result<(), DemoError> {
    let path = root.join("departments/gongan/公安局数据资源目录.xlsx");
    let mut book = write::workbook();
    let bold = Format::new().set_bold();
    let e = |x| enc(&path, x);
    {
        let s = book.add_worksheet().set_name("资源目录").map_err(e)?;
        s.merge_range(
            0,
            0,
            0,
            13,
            "公安局公共数据资源目录（2026年第四季度）",
            &bold,
        )
        .map_err(e)?;
        let headers = [
            "资源代码",
            "资源分类",
            "*资源名称",
            "资源提供方",
            "资源摘要",
            "数据形式",
            "资源格式",
            "更新频率（必填）",
            "共享属性",
            "共享条件",
            "共享依据",
            "共享范围",
            "开放属性",
            "使用要求",
            "密级",
            "填表人",
        ];
        for (c, h) in headers.iter().enumerate() {
            s.write_with_format(1, c as u16, *h, &bold).map_err(e)?;
        }
        let rows: [[&str; 16]; 5] = [
            [
                "A0101-0001",
                "基础",
                "户籍人口 ",
                "",
                "全市户籍人口基本信息",
                "数据库表",
                "ＰＡＲＱＵＥＴ",
                "每日",
                "有条件共享",
                "用于政务服务身份核验",
                "《中华人民共和国居民身份证法》第十三条",
                "全市政务部门",
                "不予开放",
                "按需申请",
                "非涉密",
                "张三",
            ],
            [
                "A0101-0002",
                "基础",
                "流动人口信息",
                "",
                "流动人口居住登记",
                "数据库表",
                "csv",
                "每月",
                "有条件共享",
                "",
                "",
                "全市政务部门",
                "不予开放",
                "按需申请",
                "",
                "张三",
            ],
            [
                "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
            ],
            [
                "A0101-0002",
                "部门",
                "重点人员管控信息",
                "",
                "重点人员动态",
                "数据库表",
                "csv",
                "实时",
                "不予共享",
                "",
                "",
                "",
                "不予开放",
                "",
                "机密",
                "李四",
            ],
            [
                "A0101-0004",
                "基础",
                "居民身份证签发信息",
                "",
                "身份证签发记录",
                "接口",
                "json",
                "偶尔",
                "无条件共享",
                "",
                "",
                "全市政务部门",
                "不予开放",
                "\u{3000}",
                "",
                "李四",
            ],
        ];
        for (r, row) in rows.iter().enumerate() {
            for (c, v) in row.iter().enumerate() {
                if !v.is_empty() && c != 3 {
                    s.write((r + 2) as u32, c as u16, *v).map_err(e)?;
                }
            }
        }
        // The provider merged down over all its rows, as departments do.
        s.merge_range(2, 3, 6, 3, "公安局", &Format::new())
            .map_err(e)?;
    }
    {
        let s = book.add_worksheet().set_name("信息项").map_err(e)?;
        for (c, h) in [
            "资源名称",
            "信息项名称",
            "字段名",
            "数据类型",
            "数据长度",
            "是否涉及个人信息",
        ]
        .iter()
        .enumerate()
        {
            s.write_with_format(0, c as u16, *h, &bold).map_err(e)?;
        }
        let mut r = 1u32;
        if let Some(d) = find(datasets, "household_registration") {
            let first = r;
            for (col, ty) in d.columns.iter().filter(|(c, _)| c != "remark") {
                s.write(r, 1, zh(col)).map_err(e)?;
                s.write(r, 2, col.as_str()).map_err(e)?;
                // Drift: the region code is catalogued as a number.
                s.write(
                    r,
                    3,
                    if col == "region_code" {
                        "数值型"
                    } else {
                        zh_type(ty)
                    },
                )
                .map_err(e)?;
                // Drift: names are catalogued 4 characters long.
                let len = match col.as_str() {
                    "id_number" => "18",
                    "name" => "4",
                    _ => "",
                };
                if !len.is_empty() {
                    s.write(r, 4, len).map_err(e)?;
                }
                s.write(r, 5, if is_personal(col) { "是" } else { "否" })
                    .map_err(e)?;
                r += 1;
            }
            // Drift: a catalogued column the data does not have.
            s.write(r, 1, "曾用名").map_err(e)?;
            s.write(r, 2, "former_name").map_err(e)?;
            s.write(r, 3, "字符型").map_err(e)?;
            s.write(r, 5, "是").map_err(e)?;
            s.merge_range(first, 0, r, 0, "户籍人口", &Format::new())
                .map_err(e)?;
            r += 1;
        }
        s.write(r, 0, "流动人口信息").map_err(e)?;
        s.write(r, 1, "公民身份号码").map_err(e)?;
        s.write(r, 2, "id_number").map_err(e)?;
        s.write(r, 3, "字符型").map_err(e)?;
        r += 1;
        // An item whose resource is not in the resources sheet.
        s.write(r, 0, "出入境记录").map_err(e)?;
        s.write(r, 1, "证件号码").map_err(e)?;
        s.write(r, 3, "字符型").map_err(e)?;
    }
    let bytes = book.save_to_buffer().map_err(e)?;
    write::bytes(&path, &bytes)?;
    write::text(
        &root.join("catalogs/gongan.toml"),
        "# 公安局报送的目录模板 / the public-security bureau's catalog template\n\
         department = \"gongan\"\n\n[source]\nkind = \"xlsx_template\"\nlocation = \"departments/gongan/公安局数据资源目录.xlsx\"\n",
    )
}

fn items_json(d: Option<&DemoDataset>) -> serde_json::Value {
    let Some(d) = d else {
        return serde_json::json!([]);
    };
    serde_json::Value::Array(
        d.columns
            .iter()
            .map(|(c, t)| {
                serde_json::json!({"信息项名称": zh(c), "字段名": c, "数据类型": zh_type(t),
                    "是否涉及个人信息": if is_personal(c) { "是" } else { "否" }})
            })
            .collect(),
    )
}

/// The portal's export, where the demo keeps it.
pub const PORTAL_EXPORT: &str = "catalogs/portal-export.json";

/// The entry the portal stops publishing on the final night: listed (and
/// shared) in the weeks before, gone then, while the usage log shows
/// consumers of it — the withdrawal-with-consumers finding (新疆 第二十四条).
pub const WITHDRAWN_CODE: &str = "A0102-0003";

/// Writes the portal's export under `root` as it reads on a night: with
/// `earlier`, as in the weeks before the final night (one entry more,
/// [`WITHDRAWN_CODE`]).
pub(super) fn portal_export(
    root: &Path,
    datasets: &[DemoDataset],
    earlier: bool,
) -> Result<(), DemoError> {
    let mut doc = portal_doc(datasets);
    if earlier && let Some(list) = doc["data"]["list"].as_array_mut() {
        // One of five: within the share of its entries a harvest may
        // withdraw by default (20%), so the final night's harvest applies it.
        list.push(serde_json::json!({
            "id": "mz-0003", "资源代码": WITHDRAWN_CODE, "资源分类": "部门", "资源名称": "养老机构备案",
            "资源提供方": "民政局", "摘要": "养老机构备案信息", "数据形式": "数据库表", "资源格式": "csv",
            "更新频率": "每月", "共享属性": "无条件共享", "共享范围": "全市政务部门", "开放属性": "有条件开放",
            "开放条件": "签署数据使用协议", "使用要求": "按协议使用",
            "上线日期": 1_704_038_400_000_i64,
        }));
        doc["data"]["total"] = list.len().into();
    }
    write::text(
        &root.join(PORTAL_EXPORT),
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )
}

fn portal(root: &Path, datasets: &[DemoDataset]) -> Result<(), DemoError> {
    portal_export(root, datasets, false)?;
    write::text(
        &root.join("catalogs/portal.toml"),
        "# 共享交换平台的目录接口（此处为导出文件）/ the sharing platform's catalog API (an export here)\n\
         [source]\nkind = \"json_api\"\nurl = \"catalogs/portal-export.json\"\nrecords = \"data.list\"\nid = \"id\"\nitems = \"信息项\"\n",
    )
}

fn portal_doc(datasets: &[DemoDataset]) -> serde_json::Value {
    // 2026-11-01 00:00 +08:00 and 2026-10-15 as epoch milliseconds.
    serde_json::json!({
        "code": 200,
        "data": {
            "total": 4,
            "list": [
                {
                    "id": "mz-0001", "资源代码": "A0102-0001", "资源分类": "基础", "资源名称": "婚姻登记",
                    "资源提供方": "民政局", "摘要": "结婚、离婚登记信息", "数据形式": "数据库表",
                    "资源格式": "电子表格/csv", "更新频率": "每周", "共享属性": "有条件共享", "共享范围": "全市政务部门",
                    "开放属性": "不予开放", "使用要求": "仅用于婚姻状况核验",
                    "上线日期": 1_704_038_400_000_i64, "更新日期": 1_761_926_400_000_i64,
                    "信息项": items_json(find(datasets, "marriage_registration")),
                },
                {
                    "id": "wj-0001", "资源代码": "A0103-0001", "资源分类": "基础", "资源名称": "出生医学证明",
                    "资源提供方": "卫生健康委员会", "摘要": "出生医学证明签发信息", "数据形式": "接口",
                    "资源格式": "json", "更新频率": "每日", "共享属性": "无条件共享", "共享范围": "全市政务部门",
                    "开放属性": "无条件开放", "开放条件": "", "使用要求": "无", "数据形式 ": "接口",
                    "上线日期": "2024年1月1日", "更新日期": "2026-11-19 08:00:00",
                    "信息项": items_json(find(datasets, "birth_certificates")),
                },
                {
                    "id": "rs-0001", "资源代码": "A0104-0001", "资源分类": "基础", "资源名称": "社保参保",
                    "资源提供方": "人力资源和社会保障局", "摘要": "企业职工基本养老保险参保信息",
                    "资源格式": "xlsx", "更新频率": "按季度吧", "共享属性": "不予共享", "共享范围": "",
                    "开放属性": "不予开放", "使用要求": "按需申请",
                    "上线日期": 1_704_038_400_000_i64, "更新日期": 1_760_457_600_000_i64,
                    "信息项": items_json(find(datasets, "social_insurance")),
                },
                {
                    "id": "mz-0002", "资源代码": "A0102-0002", "资源分类": "部门", "资源名称": "社会组织登记",
                    "资源提供方": "民政局", "摘要": "社会组织法人登记信息", "数据形式": "数据库表", "资源格式": "csv",
                    "更新频率": "每月", "共享属性": "无条件共享", "共享范围": "全市政务部门", "开放属性": "有条件开放",
                    "开放条件": "签署数据使用协议", "使用要求": "按协议使用",
                    "上线日期": 1_704_038_400_000_i64,
                },
            ]
        }
    })
}

fn ckan(root: &Path) -> Result<(), DemoError> {
    let doc = serde_json::json!({
        "success": true,
        "result": {
            "count": 1,
            "results": [{
                "id": "7d3c1e0a-market-entities",
                "name": "market-entities",
                "title": "市场主体登记",
                "notes": "全市市场主体登记信息（已脱敏）",
                "organization": {"name": "shichang", "title": "市场监督管理局"},
                "metadata_created": "2024-01-01T00:00:00",
                "metadata_modified": "2026-11-18T09:30:00",
                "private": false,
                "resources": [{"format": "JSON"}, {"format": "CSV"}],
                "extras": [
                    {"key": "resource_code", "value": "A0105-0001"},
                    {"key": "frequency", "value": "daily"},
                    {"key": "资源分类", "value": "基础"},
                    {"key": "共享属性", "value": "无条件共享"},
                    {"key": "使用要求", "value": "注明来源"},
                    {"key": "数据形式", "value": "数据集"}
                ]
            }]
        }
    });
    write::text(
        &root.join("catalogs/open-data-ckan.json"),
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    write::text(
        &root.join("catalogs/open-data.toml"),
        "# 开放数据平台（CKAN package_search 导出）/ the open-data portal (a CKAN package_search export)\n\
         [source]\nkind = \"ckan\"\nurl = \"catalogs/open-data-ckan.json\"\n\n\
         [defaults]\nopen_attribute = \"无条件开放\"\n",
    )
}

fn dcat(root: &Path) -> Result<(), DemoError> {
    let doc = serde_json::json!({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/"},
        "@graph": [
            {"@id": "https://data.example.gov.cn/catalog", "@type": "dcat:Catalog",
             "dcat:dataset": [{"@id": "https://data.example.gov.cn/dataset/bus-stops"}]},
            {"@id": "https://data.example.gov.cn/org/jiaotong", "@type": "foaf:Organization", "foaf:name": "交通运输局"},
            {"@id": "https://data.example.gov.cn/dataset/bus-stops", "@type": "dcat:Dataset",
             "dct:identifier": "A0201-0001",
             "dct:title": [{"@value": "公交站点", "@language": "zh"}, {"@value": "Bus stops", "@language": "en"}],
             "dct:description": {"@value": "全市公交站点位置", "@language": "zh"},
             "dct:publisher": {"@id": "https://data.example.gov.cn/org/jiaotong"},
             "dct:accrualPeriodicity": {"@id": "http://publications.europa.eu/resource/authority/frequency/MONTHLY"},
             "dct:modified": "2026-10-31",
             "dcat:theme": "主题",
             "dcat:distribution": [{"@type": "dcat:Distribution", "dct:format": "CSV"}]}
        ]
    });
    write::text(
        &root.join("catalogs/open-data-dcat.jsonld"),
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    write::text(
        &root.join("catalogs/transport-dcat.toml"),
        "# 交通运输局在开放平台发布的 DCAT 目录 / the transport bureau's DCAT catalog on the open-data portal\n\
         [source]\nkind = \"dcat\"\nurl = \"catalogs/open-data-dcat.jsonld\"\n\n\
         [defaults]\nopen_attribute = \"无条件开放\"\nshare_attribute = \"无条件共享\"\n",
    )
}
