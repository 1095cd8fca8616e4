//! Catalog harvesters against a local HTTP server serving the shapes real
//! portals publish: a paged JSON API with Chinese keys and a bearer token,
//! CKAN `package_search` pages, DCAT JSON-LD with Hydra paging, and a
//! badly filled spreadsheet template; then the whole catalog stage
//! (versions, checks, published files) over them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{TimeZone, Utc};
use connectors::catalog::{CatalogSourceConfig, Harvest};
use rust_xlsxwriter::{Format, Workbook};
use serde_json::{Value, json};

#[derive(Default)]
struct Portal {
    /// Requests to `/flaky` so far.
    flaky: AtomicUsize,
    /// The JSON API's records (changed between harvests by the test).
    api: std::sync::Mutex<Vec<Value>>,
}

fn api_records() -> Vec<Value> {
    vec![
        json!({"id": 101, "资源名称": "户籍人口", "摘要": "全市户籍人口", "资源提供方": "公安局", "资源格式": "电子表格/xlsx",
               "数据量": 1200000, "上线日期": 1_704_038_400_000_i64, "更新日期": "2026年11月1日", "shareType": "有条件", "共享条件": "核验用",
               "更新频率": "每日"}),
        json!({"id": 102, "资源名称": "婚姻登记", "摘要": "结婚离婚登记", "资源提供方": "民政局", "资源格式": "csv",
               "上线日期": "2024-01-01", "更新日期": 1_761_926_400_000_i64, "shareType": "无条件共享", "更新频率": "R/P1W"}),
        json!({"id": 103, "资源名称": "  出生医学证明 ", "资源提供方": "卫生健康委员会", "资源格式": "ＪＳＯＮ", "shareType": "不予共享",
               "更新频率": "每季"}),
        json!({"id": 104, "摘要": "没有名称的记录", "资源提供方": "民政局"}),
        json!({"id": 105, "资源名称": "社保参保", "资源提供方": "人力资源和社会保障局", "shareType": "共享", "更新日期": "去年"}),
    ]
}

async fn api(
    State(p): State<Arc<Portal>>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer s3cret") {
        return (StatusCode::UNAUTHORIZED, "token required").into_response();
    }
    let page: usize = q.get("pageNo").and_then(|v| v.parse().ok()).unwrap_or(1);
    let size: usize = q.get("pageSize").and_then(|v| v.parse().ok()).unwrap_or(10);
    let all = p.api.lock().unwrap().clone();
    let list: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    axum::Json(json!({"code": 0, "data": {"total": all.len(), "rows": list}})).into_response()
}

fn ckan_packages() -> Vec<Value> {
    vec![
        json!({"id": "p1", "name": "bus-stops", "title": "公交站点", "notes": "站点位置",
               "organization": {"name": "jiaotong", "title": "交通运输局"},
               "metadata_created": "2024-02-01T08:00:00.000000", "metadata_modified": "2026-10-30T09:15:00.123456",
               "resources": [{"format": "CSV"}, {"format": "csv"}, {"format": "GeoJSON"}],
               "extras": [{"key": "frequency", "value": "R/P1M"}, {"key": "资源代码", "value": "JT-001"}]}),
        json!({"id": "p2", "name": "air-quality", "title": "空气质量", "organization": null,
               "author": "生态环境局", "resources": [],
               "extras": [{"key": "更新频率", "value": "每日"}]}),
        json!({"id": "p3", "name": "no-title-package", "private": true, "extras": [{"key": "accrualPeriodicity", "value": "http://purl.org/cld/freq/annual"}]}),
        json!({"id": "p4", "name": "", "title": null}),
        json!({"id": "p5", "name": "parks", "title": "公园名录", "organization": {"name": "yuanlin", "title": "园林局"},
               "frequency": "irregular"}),
    ]
}

async fn ckan(Query(q): Query<BTreeMap<String, String>>) -> Response {
    let rows: usize = q.get("rows").and_then(|v| v.parse().ok()).unwrap_or(10);
    let start: usize = q.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let all = ckan_packages();
    let page: Vec<Value> = all.iter().skip(start).take(rows).cloned().collect();
    axum::Json(json!({"help": "package_search", "success": true, "result": {"count": all.len(), "results": page}})).into_response()
}

/// A CKAN that loses every package from the fifth on (count still 5).
async fn ckan_lossy(Query(q): Query<BTreeMap<String, String>>) -> Response {
    let rows: usize = q.get("rows").and_then(|v| v.parse().ok()).unwrap_or(10);
    let start: usize = q.get("start").and_then(|v| v.parse().ok()).unwrap_or(0);
    let all = ckan_packages();
    let page: Vec<Value> = all.iter().take(4).skip(start).take(rows).cloned().collect();
    axum::Json(json!({"help": "package_search", "success": true, "result": {"count": all.len(), "results": page}})).into_response()
}

async fn dcat_page(axum::extract::Path(n): axum::extract::Path<u32>) -> Response {
    let doc = match n {
        1 => json!({
            "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/", "foaf": "http://xmlns.com/foaf/0.1/", "hydra": "http://www.w3.org/ns/hydra/core#"},
            "@graph": [
                {"@id": "https://open.example.gov.cn/catalog", "@type": "dcat:Catalog",
                 "dcat:dataset": [{"@id": "https://open.example.gov.cn/ds/1"}, {"@id": "https://open.example.gov.cn/ds/2"}]},
                {"@id": "https://open.example.gov.cn/org/tj", "@type": "foaf:Organization", "foaf:name": [{"@value": "统计局", "@language": "zh"}, {"@value": "Statistics Bureau", "@language": "en"}]},
                {"@id": "https://open.example.gov.cn/ds/1", "@type": ["dcat:Dataset"],
                 "dct:title": [{"@value": "Population yearbook", "@language": "en"}, {"@value": "人口统计年鉴", "@language": "zh-CN"}],
                 "dct:publisher": {"@id": "https://open.example.gov.cn/org/tj"},
                 "dct:accrualPeriodicity": {"@id": "http://publications.europa.eu/resource/authority/frequency/ANNUAL"},
                 "dct:modified": {"@value": "2026-03-01", "@type": "xsd:date"},
                 "dcat:distribution": [{"@type": "dcat:Distribution", "dct:format": {"@id": "http://publications.europa.eu/resource/authority/file-type/XLSX"}}]},
                {"@id": "https://open.example.gov.cn/ds/2", "@type": "dcat:Dataset",
                 "http://purl.org/dc/terms/title": "工业增加值",
                 "http://purl.org/dc/terms/publisher": {"@id": "https://open.example.gov.cn/org/tj"},
                 "http://purl.org/dc/terms/accrualPeriodicity": "R/P1M"},
                {"@id": "https://open.example.gov.cn/catalog?page=1", "@type": "hydra:PartialCollectionView", "hydra:next": "/dcat/2"}
            ]
        }),
        _ => json!({
            // Project Open Data data.json: untyped datasets in a `dataset` array.
            "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
            "dataset": [
                {"identifier": "TJ-003", "title": "居民消费价格指数", "description": "CPI", "publisher": {"name": "统计局"},
                 "accrualPeriodicity": "R/P1M", "modified": "2026-10-15", "distribution": [{"mediaType": "text/csv", "format": "CSV"}]},
                {"identifier": "TJ-004", "description": "无标题"}
            ]
        }),
    };
    axum::Json(doc).into_response()
}

async fn flaky(State(p): State<Arc<Portal>>) -> Response {
    if p.flaky.fetch_add(1, Ordering::SeqCst) == 0 {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    }
    axum::Json(json!({"dataset": [{"identifier": "F-1", "title": "重试后成功"}]})).into_response()
}

async fn template() -> Response {
    (
        [(
            "content-type",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )],
        bad_template(),
    )
        .into_response()
}

/// A template as departments fill it: a title row, a merged provider cell,
/// blank rows, trailing and full-width spaces, full-width codes, a header
/// with `*` and （必填）, an unknown column, a formula error, a data item
/// pointing at a resource that does not exist, a data item without a name.
fn bad_template() -> Vec<u8> {
    let mut book = Workbook::new();
    let s = book.add_worksheet().set_name("资源目录").unwrap();
    s.merge_range(0, 0, 0, 8, "某局公共数据资源目录", &Format::new())
        .unwrap();
    let headers = [
        "资源代码",
        "资源名称*",
        " 提供部门 ",
        "更新频率（必填）",
        "共享属性",
        "共享条件",
        "开放属性",
        "备注栏",
        "数据量",
    ];
    for (c, h) in headers.iter().enumerate() {
        s.write(1, c as u16, *h).unwrap();
    }
    let rows: [[&str; 9]; 4] = [
        [
            "ＡＢ-０１",
            "户籍人口\u{3000}",
            "",
            "每日 ",
            "有条件共享",
            "",
            "不予开放",
            "x",
            "100",
        ],
        [
            "AB-02",
            " 婚姻登记",
            "",
            "每周",
            "无条件共享",
            "",
            "无条件开放",
            "",
            "",
        ],
        ["", "", "", "", "", "", "", "", ""],
        [
            "AB-03",
            "出生医学证明",
            "",
            "每两天",
            "不予共享",
            "",
            "不开放",
            "",
            "",
        ],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() && c != 2 {
                s.write((r + 2) as u32, c as u16, *v).unwrap();
            }
        }
    }
    s.merge_range(2, 2, 5, 2, "卫生健康委员会", &Format::new())
        .unwrap();
    s.write_formula(
        6,
        8,
        rust_xlsxwriter::Formula::new("=1/0").set_result("#DIV/0!"),
    )
    .unwrap();
    s.write(6, 1, "人口出生统计").unwrap();
    let items = book.add_worksheet().set_name("信息项").unwrap();
    for (c, h) in [
        "所属资源代码",
        "信息项名称",
        "字段名",
        "数据类型",
        "数据长度",
        "是否涉及个人信息",
    ]
    .iter()
    .enumerate()
    {
        items.write(0, c as u16, *h).unwrap();
    }
    let item_rows: [[&str; 6]; 4] = [
        [
            "AB-02",
            "男方公民身份号码",
            "husband_id",
            "字符型",
            "18",
            "是",
        ],
        ["AB-02", "登记日期", "register_date", "日期型", "", "否"],
        ["AB-99", "不存在的资源的字段", "x", "字符型", "", ""],
        ["AB-02", "", "", "字符型", "10", "否"],
    ];
    for (r, row) in item_rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                items.write((r + 1) as u32, c as u16, *v).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

async fn serve() -> (SocketAddr, Arc<Portal>) {
    let portal = Arc::new(Portal::default());
    *portal.api.lock().unwrap() = api_records();
    let app = axum::Router::new()
        .route("/api/catalog", get(api))
        .route("/ckan/api/3/action/package_search", get(ckan))
        .route("/lossy/api/3/action/package_search", get(ckan_lossy))
        .route("/dcat/{n}", get(dcat_page))
        .route("/flaky", get(flaky))
        .route("/files/template.xlsx", get(template))
        .with_state(portal.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, portal)
}

fn source(toml_text: &str) -> CatalogSourceConfig {
    #[derive(serde::Deserialize)]
    struct W {
        source: CatalogSourceConfig,
    }
    toml::from_str::<W>(toml_text).unwrap().source
}

async fn harvest(cfg: &CatalogSourceConfig) -> Harvest {
    cfg.harvest(Path::new(".")).await.unwrap()
}

fn field<'a>(h: &'a Harvest, name: &str, f: &str) -> Option<&'a str> {
    h.records
        .iter()
        .find(|r| r.fields.get("name").map(String::as_str) == Some(name))
        .and_then(|r| r.fields.get(f))
        .map(String::as_str)
}

/// A portal export whose data items name one field two ways: every value
/// is read, and where the items' fields came from is said once for the
/// source, both keys named (the items themselves carry no copy).
#[tokio::test]
async fn json_items_say_once_which_keys_their_fields_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let export = json!({"data": {"list": [
        {"id": "R1", "资源名称": "户籍人口", "资源提供方": "公安局",
         "信息项": [{"信息项名称": "姓名", "字段名": "xm"}, {"数据项名称": "性别", "字段名": "xb"}]},
        {"id": "R2", "资源名称": "婚姻登记", "资源提供方": "民政局",
         "信息项": [{"信息项名称": "登记日期", "数据类型": "日期型"}]}
    ]}});
    let file = dir.path().join("export.json");
    std::fs::write(&file, export.to_string()).unwrap();
    let cfg = source(&format!(
        "[source]\nkind = \"json_api\"\nurl = \"{}\"\nrecords = \"data.list\"\nid = \"id\"\nitems = \"信息项\"\n",
        file.display()
    ));
    let h = harvest(&cfg).await;
    assert_eq!(h.records.len(), 2, "{:?}", h.problems);
    let names: Vec<&str> = h
        .records
        .iter()
        .flat_map(|r| r.items.iter().map(|i| i.fields["name"].as_str()))
        .collect();
    assert_eq!(names, ["姓名", "性别", "登记日期"]);
    assert_eq!(h.item_origins["name"], "信息项名称 / 数据项名称");
    assert_eq!(h.item_origins["column"], "字段名");
    assert_eq!(h.item_origins["type"], "数据类型");
    // And the harvest's mapping report says it.
    assert_eq!(h.mapping_report().items, h.item_origins);
}

#[tokio::test]
async fn json_api_with_mapping_paging_and_token() {
    let (addr, _) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
    let cfg = source(&format!(
        r#"[source]
kind = "json_api"
url = "http://{addr}/api/catalog"
records = "data.rows"
id = "id"
token = {{ file = "{}" }}
paging = {{ style = "page", param = "pageNo", size_param = "pageSize", size = 2 }}
mapping = {{ share_attribute = "shareType" }}
"#,
        dir.path().join("token").display()
    ));
    let h = harvest(&cfg).await;
    assert_eq!(
        h.records.len(),
        4,
        "5 records over 3 pages, one without a name"
    );
    assert_eq!(h.problems.len(), 1);
    assert!(
        h.problems[0].location.ends_with("page 2 item 2"),
        "{:?}",
        h.problems[0]
    );
    assert_eq!(field(&h, "户籍人口", "share_attribute"), Some("有条件"));
    assert_eq!(field(&h, "户籍人口", "format"), Some("电子表格/xlsx"));
    assert_eq!(field(&h, "户籍人口", "data_volume"), Some("1200000"));
    assert_eq!(field(&h, "户籍人口", "online_date"), Some("1704038400000"));
    assert_eq!(
        field(&h, "出生医学证明", "provider"),
        Some("卫生健康委员会"),
        "trimmed name"
    );
    let r = h
        .records
        .iter()
        .find(|r| r.source_id.as_deref() == Some("102"))
        .unwrap();
    assert_eq!(r.origins["share_attribute"], "shareType");
    // Without the token: a clear error naming the URL and the status.
    let bad = source(&format!(
        "[source]\nkind = \"json_api\"\nurl = \"http://{addr}/api/catalog\"\nrecords = \"data.rows\"\n"
    ));
    let e = bad.harvest(Path::new(".")).await.unwrap_err().to_string();
    assert!(e.contains("/api/catalog") && e.contains("401"), "{e}");
}

#[tokio::test]
async fn ckan_package_search_pages_and_mixed_vocabularies() {
    let (addr, _) = serve().await;
    let cfg = source(&format!(
        "[source]\nkind = \"ckan\"\nurl = \"http://{addr}/ckan/api/3/action/package_search\"\nrows = 2\n"
    ));
    let h = harvest(&cfg).await;
    let names: Vec<&str> = h
        .records
        .iter()
        .filter_map(|r| r.fields.get("name").map(String::as_str))
        .collect();
    assert_eq!(
        names,
        ["公交站点", "空气质量", "no-title-package", "公园名录"],
        "5 packages over 3 pages; one has neither title nor name"
    );
    assert_eq!(h.problems.len(), 1);
    assert_eq!(field(&h, "公交站点", "format"), Some("csv、geojson"));
    assert_eq!(field(&h, "公交站点", "provider"), Some("交通运输局"));
    assert_eq!(field(&h, "公交站点", "resource_code"), Some("JT-001"));
    assert_eq!(field(&h, "公交站点", "update_frequency"), Some("R/P1M"));
    assert_eq!(
        field(&h, "空气质量", "provider"),
        Some("生态环境局"),
        "author when no organization"
    );
    assert_eq!(field(&h, "空气质量", "update_frequency"), Some("每日"));
    assert_eq!(
        field(&h, "no-title-package", "update_frequency"),
        Some("http://purl.org/cld/freq/annual")
    );
    assert_eq!(
        field(&h, "no-title-package", "open_attribute"),
        Some("不予开放"),
        "private package"
    );
    assert_eq!(field(&h, "公园名录", "update_frequency"), Some("irregular"));
    // Fewer packages than `result.count`: the source fails, naming both
    // (issue #19, 6), instead of a catalog missing one package.
    let lossy = source(&format!(
        "[source]\nkind = \"ckan\"\nurl = \"http://{addr}/lossy/api/3/action/package_search\"\nrows = 2\n"
    ));
    let e = lossy.harvest(Path::new(".")).await.unwrap_err().to_string();
    assert!(
        e.contains("/lossy/api/3/action/package_search") && e.contains("received 4 of 5 packages"),
        "{e}"
    );
    // Every vocabulary in the mix is understood.
    use pipeline::catalog::Frequency;
    for r in &h.records {
        let f = r.fields.get("update_frequency");
        assert!(
            f.is_none() || Frequency::parse(f.unwrap()).is_some(),
            "{f:?}"
        );
    }
}

#[tokio::test]
async fn dcat_json_ld_graph_references_languages_and_hydra_paging() {
    let (addr, _) = serve().await;
    let cfg = source(&format!(
        "[source]\nkind = \"dcat\"\nurl = \"http://{addr}/dcat/1\"\n"
    ));
    let h = harvest(&cfg).await;
    let names: Vec<&str> = h
        .records
        .iter()
        .filter_map(|r| r.fields.get("name").map(String::as_str))
        .collect();
    assert_eq!(names, ["人口统计年鉴", "工业增加值", "居民消费价格指数"]);
    assert_eq!(h.problems.len(), 1, "TJ-004 has no title");
    assert_eq!(
        field(&h, "人口统计年鉴", "provider"),
        Some("统计局"),
        "publisher resolved by @id, Chinese preferred"
    );
    assert_eq!(field(&h, "人口统计年鉴", "format"), Some("xlsx"));
    assert_eq!(
        field(&h, "人口统计年鉴", "data_updated"),
        Some("2026-03-01")
    );
    assert_eq!(
        field(&h, "工业增加值", "provider"),
        Some("统计局"),
        "full-IRI keys"
    );
    assert_eq!(
        field(&h, "居民消费价格指数", "resource_code"),
        Some("TJ-003")
    );
    assert_eq!(field(&h, "居民消费价格指数", "provider"), Some("统计局"));
    assert_eq!(
        h.records[0].source_id.as_deref(),
        Some("https://open.example.gov.cn/ds/1")
    );
    // A transient 503 is retried.
    let flaky = source(&format!(
        "[source]\nkind = \"dcat\"\nurl = \"http://{addr}/flaky\"\n"
    ));
    assert_eq!(harvest(&flaky).await.records.len(), 1);
}

#[tokio::test]
async fn a_badly_filled_template_reports_sheet_row_and_column() {
    let (addr, _) = serve().await;
    let cfg = source(&format!(
        "[source]\nkind = \"xlsx_template\"\nlocation = \"http://{addr}/files/template.xlsx\"\n"
    ));
    let h = harvest(&cfg).await;
    let names: Vec<&str> = h
        .records
        .iter()
        .filter_map(|r| r.fields.get("name").map(String::as_str))
        .collect();
    assert_eq!(
        names,
        ["户籍人口", "婚姻登记", "出生医学证明", "人口出生统计"],
        "blank row skipped, spaces trimmed"
    );
    assert_eq!(
        field(&h, "婚姻登记", "provider"),
        Some("卫生健康委员会"),
        "merged provider carried down"
    );
    assert_eq!(
        field(&h, "户籍人口", "resource_code"),
        Some("ＡＢ-０１"),
        "raw here; normalised by the pipeline"
    );
    let marriage = h
        .records
        .iter()
        .find(|r| r.fields["name"] == "婚姻登记")
        .unwrap();
    assert_eq!(
        marriage.items.len(),
        2,
        "the item row without a name is reported, not kept"
    );
    assert_eq!(marriage.location, "template.xlsx!资源目录 row 4");
    assert_eq!(
        marriage.origins["update_frequency"],
        "column D (更新频率（必填）)"
    );
    // Where the data items' fields came from: said once for the sheet.
    assert_eq!(h.item_origins["name"], "column B (信息项名称)");
    assert_eq!(h.item_origins["column"], "column C (字段名)");
    assert_eq!(h.item_origins["personal"], "column F (是否涉及个人信息)");
    let problems: Vec<String> = h.problems.iter().map(|p| p.to_string()).collect();
    let expect = [
        "template.xlsx!资源目录 row 7 column I: cell holds the spreadsheet error",
        "template.xlsx!资源目录 row 2 column H: header `备注栏` is not a template field",
        "template.xlsx!信息项 row 4: data item refers to resource `AB-99` that is not in sheet 资源目录",
        "template.xlsx!信息项 row 5: data-item row without 信息项名称 or 字段名; skipped",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "missing `{e}` in {problems:#?}"
        );
    }
}

/// The whole stage: a workspace with these sources, harvested twice
/// (the second time with one changed field), checked and published.
#[tokio::test]
async fn harvest_versions_checks_and_publishes() {
    let (addr, portal) = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    std::fs::write(
        ws_dir.join("pdq.toml"),
        "bureau = \"测试数据局\"\nprofile = \"xinjiang-2023\"\n[departments]\ngongan = \"公安局\"\nminzheng = \"民政局\"\nweijian = \"卫生健康委员会\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws_dir.join("catalogs")).unwrap();
    std::fs::write(ws_dir.join("token"), "s3cret").unwrap();
    std::fs::write(
        ws_dir.join("catalogs/portal.toml"),
        format!(
            "# One record of five has no name (104): a harvest problem, not a failed source.\nmax_missing_share = 0.25\n[source]\nkind = \"json_api\"\nurl = \"http://{addr}/api/catalog\"\nrecords = \"data.rows\"\nid = \"id\"\ntoken = {{ file = \"token\" }}\npaging = {{ style = \"page\", param = \"pageNo\", size_param = \"pageSize\", size = 2 }}\nmapping = {{ share_attribute = \"shareType\" }}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        ws_dir.join("catalogs/weijian.toml"),
        format!("department = \"weijian\"\n[source]\nkind = \"xlsx_template\"\nlocation = \"http://{addr}/files/template.xlsx\"\n"),
    )
    .unwrap();
    let ws = pipeline::workspace::Workspace::load(ws_dir).unwrap();
    let lake = pipeline::land::Lake::open(&ws.config.lake, ws_dir).unwrap();
    let t1 = Utc.with_ymd_and_hms(2026, 11, 20, 18, 30, 0).unwrap();
    let o = pipeline::catalog::run(&ws, &lake, None, t1).await.unwrap();
    assert_eq!(o.report.version, 1);
    assert_eq!(o.state.current().count(), 8);
    let hh = o.state.entries.get("portal:101").unwrap();
    assert_eq!(hh.entry.department, "gongan");
    assert_eq!(hh.entry.share_attribute.as_deref(), Some("有条件共享"));
    assert_eq!(
        hh.entry.online_date.as_deref(),
        Some("2023-12-31T16:00:00+00:00")
    );
    assert_eq!(hh.entry.data_updated.as_deref(), Some("2026-11-01"));
    let t = o
        .state
        .entries
        .get("weijian:AB-01")
        .expect("full-width code normalised");
    assert_eq!(t.entry.name.as_deref(), Some("户籍人口"));
    // Findings carry the department and the place in the source.
    let f = |check: &str| {
        o.findings
            .iter()
            .filter(|x| x.check == check)
            .collect::<Vec<_>>()
    };
    let freq = f("enumeration");
    assert!(
        freq.iter().any(|x| x.location
            == "template.xlsx!资源目录 row 6 column D (更新频率（必填）)"
            && x.message.contains("每两天")),
        "{freq:#?}"
    );
    assert!(
        freq.iter()
            .any(|x| x.field.as_deref() == Some("share_attribute") && x.message.contains("`共享`"))
    );
    assert!(freq.iter().any(|x| x.field.as_deref() == Some("data_updated") && x.location.ends_with("更新日期")));
    assert!(
        f("conditional_share_conditions")
            .iter()
            .any(|x| x.department == "weijian")
    );
    assert!(
        f("personal_data_open")
            .iter()
            .any(|x| x.location == "template.xlsx!信息项 row 2")
    );
    assert!(f("harvest_problem").len() >= 4);
    // Published files.
    let files = pipeline::catalog::published_files(&ws, &o, &BTreeMap::new(), t1).unwrap();
    let get = |n: &str| &files.iter().find(|(f, _)| f == n).unwrap().1;
    let catalog: Value = serde_json::from_slice(get("catalog.json")).unwrap();
    assert_eq!(catalog["entries"].as_array().unwrap().len(), 8);
    let dcat: Value = serde_json::from_slice(get("dcat.jsonld")).unwrap();
    assert_eq!(dcat["dcat:dataset"].as_array().unwrap().len(), 8);
    let marriage = dcat["dcat:dataset"]
        .as_array()
        .unwrap()
        .iter()
        // No resource code: no dct:identifier (the key is no code, issue
        // #19, 7); the entry's IRI is made from its key.
        .find(|d| d["@id"] == "urn:pdq:dataset/portal%3A102")
        .unwrap_or_else(|| panic!("{:#}", dcat["dcat:dataset"]));
    assert_eq!(marriage["dct:title"]["@value"], "婚姻登记");
    assert!(marriage["dct:identifier"].is_null(), "{marriage}");
    assert_eq!(
        marriage["dct:accrualPeriodicity"]["@id"],
        "http://publications.europa.eu/resource/authority/frequency/WEEKLY"
    );
    let open: Value = serde_json::from_slice(get("open-catalog.json")).unwrap();
    assert_eq!(
        open.as_array().unwrap().len(),
        1,
        "only 婚姻登记 (template) is 无条件开放"
    );
    assert!(String::from_utf8_lossy(get("catalog.csv")).starts_with("\u{feff}部门"));
    assert!(get("catalog.xlsx").starts_with(b"PK"));

    // Unchanged input: no new version.
    let o2 = pipeline::catalog::run(&ws, &lake, None, t1 + chrono::Duration::days(1))
        .await
        .unwrap();
    assert!(!o2.report.new_version);
    assert_eq!(o2.report.version, 1);
    assert!(o2.report.changes.is_empty());
    // One field changed at the portal: one change record naming it.
    portal.api.lock().unwrap()[1]["摘要"] = json!("结婚、离婚、补领登记");
    let o3 = pipeline::catalog::run(&ws, &lake, Some("portal"), t1 + chrono::Duration::days(2))
        .await
        .unwrap();
    assert_eq!(o3.report.version, 2);
    assert_eq!(o3.report.changes.len(), 1);
    let c = &o3.report.changes[0];
    assert_eq!(c.key, "portal:102");
    let changes: Value = serde_json::from_str(&c.changes).unwrap();
    assert_eq!(
        changes,
        json!([{"field": "summary", "old": "结婚离婚登记", "new": "结婚、离婚、补领登记"}])
    );
    // The history is in the lake: version 1 has 8 rows, version 2 one.
    let (state, rows) = pipeline::catalog::store::load(&lake).await.unwrap();
    assert_eq!(state.version, 2);
    assert_eq!(rows.iter().filter(|r| r.version == 1).count(), 8);
    assert_eq!(rows.iter().filter(|r| r.version == 2).count(), 1);
    assert_eq!(
        state.entries["portal:102"].entry.entry_updated,
        Some(t1 + chrono::Duration::days(2))
    );
    assert_eq!(state.entries["portal:101"].entry.entry_updated, Some(t1));
}
