#!/usr/bin/env python3
"""Generates the input of the ingest benchmark: a GB18030-encoded CSV of
resident records as a public-security / civil-affairs extract would have
them, with a header, `--rows` rows (default 5,000,000) of about 200 bytes
each (5M rows ≈ 1 GB), written streaming in blocks, so memory stays bounded
whatever the size. Seeded: the same arguments give the same bytes.

    gen_csv.py --out data/ingest/residents-5000000.csv [--rows N] [--seed S]

Columns: id, xm (name), gmsfhm (18-char resident ID with a valid GB 11643
check character, ~1/11 end in X), xb (男/女), csrq (birth date), mz (民族),
zz (address, 15–30 chars; some contain a comma, so are quoted, and some a
double quote, escaped as ""), lxdh (mobile), djrq (registration timestamp),
je (amount, 2 decimals), bz (remark, mostly empty). A few names use
characters outside GBK (4-byte GB18030 sequences).

Planted bad values, which a loader with a typed schema must quarantine:
~0.1% of rows have an invalid csrq (2023-02-30, 1985-13-07, 未知), ~0.01% an
invalid je (12,5 or 一百). The sidecar `<out>.json` gives the row count, the
counts of bad csrq, bad je and rows with either, and the file size.
"""
import argparse
import csv
import datetime as dt
import json
import os
import random

HEADER = ["id", "xm", "gmsfhm", "xb", "csrq", "mz", "zz", "lxdh", "djrq", "je", "bz"]
# (GB/T 2260 county code, province, city, district) — real codes.
REGIONS = [
    ("110101", "北京市", "", "东城区"), ("110105", "北京市", "", "朝阳区"),
    ("310101", "上海市", "", "黄浦区"), ("310115", "上海市", "", "浦东新区"),
    ("440103", "广东省", "广州市", "荔湾区"), ("440305", "广东省", "深圳市", "南山区"),
    ("510104", "四川省", "成都市", "锦江区"), ("330106", "浙江省", "杭州市", "西湖区"),
    ("320102", "江苏省", "南京市", "玄武区"), ("420106", "湖北省", "武汉市", "武昌区"),
    ("610113", "陕西省", "西安市", "雁塔区"), ("370102", "山东省", "济南市", "历下区"),
    ("650102", "新疆维吾尔自治区", "乌鲁木齐市", "天山区"), ("540102", "西藏自治区", "拉萨市", "城关区"),
    ("450103", "广西壮族自治区", "南宁市", "青秀区"), ("230103", "黑龙江省", "哈尔滨市", "南岗区"),
]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢") + ["欧阳", "司马", "诸葛"]
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国文红玉梅志辉新春雪晨宇浩然子涵欣怡梓轩一诺博思雨佳琪")
RARE = ["𠮷", "䶮", "㛃", "堃", "𡒄"]  # 𠮷 𡒄: outside the BMP; 䶮 㛃: CJK Ext. A
MZ = ["汉族"] * 91 + ["壮族", "回族", "满族", "维吾尔族", "苗族", "彝族", "土家族", "藏族", "蒙古族"]
ROADS = list("人民解放建设中山和平文化胜利友谊光明新华长江黄河幸福东风朝阳")
REMARKS = ["户籍信息核查已完成", "经办人复核无误", "材料齐全", "按规定办理迁入登记", "联系方式已变更",
           "原住址已注销", "待补充证明材料", "本人到场办理", "委托代办已核实身份", "系统批量导入",
           "已通知社区民警上门核实", "原籍地公安机关已回函", "人户分离情况已登记", "居住证已到期需续签",
           "流动人口信息已采集", "婚姻状况已由民政部门确认"]
BAD_CSRQ = ["2023-02-30", "1985-13-07", "未知"]
BAD_JE = ["12,5", "一百"]
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]  # GB 11643-1999
EPOCH = dt.date(1940, 1, 1).toordinal()


def check_char(first17):
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def address(r, prov, city, dist):
    road = r.choice(ROADS) + r.choice(ROADS) + r.choice(["路", "街", "大道", "巷"])
    s = f"{prov}{city}{dist}{road}{r.randint(1, 999)}号"
    k = r.random()
    if k < 0.5:
        s += f"{r.randint(1, 30)}栋{r.randint(1, 3)}单元{r.randint(101, 3208)}室"
    elif k < 0.55:
        s += f",{r.randint(1, 30)}栋{r.randint(101, 3208)}室"  # comma: the field is quoted
    elif k < 0.57:
        s += f"\"{r.choice(ROADS)}{r.choice(ROADS)}小区\"{r.randint(1, 30)}栋"  # quote: escaped as ""
    else:
        s += f"{r.choice(ROADS)}{r.choice(['小区', '花园', '公寓', '家园'])}{r.randint(1, 30)}栋"
    return s[:30]


def rows(r, n, stats):
    for i in range(1, n + 1):
        code, prov, city, dist = REGIONS[r.randrange(len(REGIONS))]
        born = dt.date.fromordinal(EPOCH + r.randrange(25_000))
        male = r.random() < 0.51
        seq = r.randrange(50) * 20 + r.randrange(10) * 2 + (1 if male else 0)  # odd = male
        id17 = f"{code}{born:%Y%m%d}{seq:03d}"
        given = "".join(r.choice(GIVEN) for _ in range(r.choice((1, 2, 2, 2))))
        if r.random() < 0.005:
            given = given[:-1] + r.choice(RARE)
        csrq, je = born.isoformat(), f"{r.randrange(100_000_000) / 100:.2f}"
        if r.random() < 0.001:
            csrq = r.choice(BAD_CSRQ)
            stats["bad_csrq"] += 1
        if r.random() < 0.0001:
            je = r.choice(BAD_JE)
            stats["bad_je"] += 1
        stats["bad_rows"] += csrq != born.isoformat() or "." not in je
        reg = dt.datetime(2015, 1, 1) + dt.timedelta(seconds=r.randrange(340_000_000))
        bz = ""
        if r.random() < 0.45:
            bz = "，".join(r.sample(REMARKS, r.randint(4, 14)))
        yield (i, r.choice(SURNAMES) + given, id17 + check_char(id17), "男" if male else "女",
               csrq, r.choice(MZ), address(r, prov, city, dist),
               f"1{r.choice('3456789')}{r.randrange(10**9):09d}", f"{reg:%Y-%m-%d %H:%M:%S}", je, bz)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=20261122)
    a = ap.parse_args()
    r = random.Random(a.seed)
    stats = {"bad_csrq": 0, "bad_je": 0, "bad_rows": 0}
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="gb18030", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        block = []
        for row in rows(r, a.rows, stats):
            block.append(row)
            if len(block) == 10_000:
                w.writerows(block)
                block.clear()
        w.writerows(block)
    os.replace(tmp, a.out)
    side = {"file": os.path.basename(a.out), "encoding": "gb18030", "seed": a.seed, "rows": a.rows,
            **stats, "good_rows": a.rows - stats["bad_rows"], "bytes": os.path.getsize(a.out), "columns": HEADER}
    with open(a.out + ".json", "w", encoding="utf-8") as f:
        json.dump(side, f, ensure_ascii=False, indent=1)
    print(json.dumps(side, ensure_ascii=False))


if __name__ == "__main__":
    main()
