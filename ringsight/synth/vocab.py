"""Words and places the generator draws from: cities, districts, names, streets, brands.

Everything here is plain data. Characters are limited to common ones so that
every generated file encodes in GBK as well as UTF-8.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """One district of a city: its 6-digit administrative code, name, share of residents, rough position (km)."""

    code: str
    name: str
    weight: float
    x: float
    y: float
    rural: float  # share of residents with village-style addresses


@dataclass(frozen=True)
class City:
    """A city: its name as written in addresses and its districts."""

    key: str
    name: str
    short: str
    districts: tuple[District, ...]


CITIES: dict[str, City] = {
    "beijing": City(
        "beijing",
        "北京市",
        "北京",
        (
            District("110101", "东城区", 0.05, 0, 0, 0.0),
            District("110102", "西城区", 0.05, -3, 0, 0.0),
            District("110105", "朝阳区", 0.16, 8, 2, 0.0),
            District("110106", "丰台区", 0.09, -6, -8, 0.05),
            District("110107", "石景山区", 0.03, -15, 1, 0.0),
            District("110108", "海淀区", 0.14, -10, 10, 0.02),
            District("110109", "门头沟区", 0.02, -30, 2, 0.35),
            District("110111", "房山区", 0.06, -35, -25, 0.4),
            District("110112", "通州区", 0.08, 22, -3, 0.25),
            District("110113", "顺义区", 0.06, 28, 25, 0.35),
            District("110114", "昌平区", 0.10, -12, 30, 0.25),
            District("110115", "大兴区", 0.09, 2, -25, 0.3),
            District("110116", "怀柔区", 0.02, 15, 55, 0.5),
            District("110117", "平谷区", 0.02, 60, 35, 0.55),
            District("110118", "密云区", 0.02, 45, 60, 0.55),
            District("110119", "延庆区", 0.015, -45, 65, 0.6),
        ),
    ),
    "chongqing": City(
        "chongqing",
        "重庆市",
        "重庆",
        (
            District("500103", "渝中区", 0.06, 0, 0, 0.0),
            District("500105", "江北区", 0.09, 4, 4, 0.05),
            District("500106", "沙坪坝区", 0.11, -8, 3, 0.1),
            District("500107", "九龙坡区", 0.12, -8, -5, 0.1),
            District("500108", "南岸区", 0.09, 5, -3, 0.05),
            District("500112", "渝北区", 0.15, 10, 15, 0.2),
            District("500113", "巴南区", 0.09, 8, -20, 0.35),
            District("500104", "大渡口区", 0.04, -12, -12, 0.1),
            District("500109", "北碚区", 0.07, -15, 30, 0.3),
            District("500102", "涪陵区", 0.09, 70, -15, 0.5),
            District("500101", "万州区", 0.09, 230, 120, 0.5),
        ),
    ),
}

#: Region codes of people born outside the city (migrant workers, students).
ELSEWHERE_REGIONS = (
    "130102", "130602", "370102", "410102", "510104", "230102", "340102", "420102",
    "430102", "360102", "610102", "140105", "210102", "320102", "330106", "450102",
)  # fmt: skip

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国志文博成东亮海峰立新永春松德"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧莹倩琳晶颖璐洁梅兰英红玉萍秀丹青月桂凤琴云霞佳欣怡彤悦晓蕾"

STREETS = (
    "建国路", "朝阳路", "复兴路", "学院路", "中关村大街", "和平里街", "安定路", "光华路", "望京街", "劲松路",
    "团结湖路", "南湖路", "北苑路", "幸福大街", "育新街", "青年路", "花园路", "工体北路", "双井街", "永定路",
    "丽泽路", "广安路", "西四环路", "金台路", "三里河路", "白纸坊街", "鼓楼大街", "天通苑路", "回龙观街",
    "清河路", "科技园路", "滨河路", "新华大街", "人民路", "兴华路", "文化路", "长青路", "胜利街", "振兴路",
)  # fmt: skip
COMPOUNDS = (
    "幸福小区", "阳光花园", "和平家园", "富力城", "华润小区", "金地名园", "明珠花园", "东方家园", "康乐里",
    "翠微小区", "永安里", "望春园", "百子湾家园", "芳草苑", "新城小区", "丽景苑", "锦绣园", "安华里",
)  # fmt: skip
TOWNS = ("城关", "长沟", "张坊", "大石窝", "西集", "永乐店", "北务", "南彩", "小汤山", "兴寿", "榆垡", "庞各庄")
VILLAGES = ("东庄", "西庄", "南沟", "北坡", "前营", "后营", "杨各庄", "李家", "王家坟", "大辛庄", "石门", "河南")

HOSPITAL_BRANDS = ("仁和", "康泰", "博爱", "华康", "瑞安", "德济", "安康", "京华", "同心", "益民", "惠民", "长庚")
PHARMACY_BRANDS = ("同仁堂", "金象", "嘉事堂", "永安", "医保全新", "老百姓", "益丰", "大参林", "国大", "德威治")
ORDINALS = ("第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十")
PUBLIC_TERTIARY_KINDS = ("人民医院", "中医医院", "中心医院", "妇幼保健院", "中西医结合医院", "医院")

NURSING_HOME_NAMES = ("颐养院", "敬老院", "康养中心", "老年公寓", "福寿苑")
DORMITORY_NAMES = ("职工宿舍", "员工公寓", "集体宿舍", "学生公寓")

MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156",
    "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "198", "199",
)  # fmt: skip
