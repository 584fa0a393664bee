"""The bundled sample roster used by ``kaohe init`` and ``kaohe demo``.

It holds the cases HR meets in real lists: ids with leading zeros, a name with
``·``, the same name in two units, a seconded (挂职) person, an empty duties cell.
"""

from __future__ import annotations

from .models import Gender, Person

SAMPLE_HEADER = ("编号", "姓名", "性别", "单位", "职务", "从事或分管工作", "分管领导", "挂职单位")

SAMPLE_ROWS: tuple[tuple[str, ...], ...] = (
    ("0001", "张伟", "男", "城区分局", "副局长", "建设项目环评审批、排污许可", "王建国", ""),
    ("0002", "李娜", "女", "城区分局", "一级科员", "水环境监管", "王建国", ""),
    ("0003", "王芳", "女", "城区分局", "四级主任科员", "固体废物与化学品管理", "王建国", ""),
    ("0004", "赵磊", "男", "泽州分局", "局长", "分局全面工作", "王建国", ""),
    ("0005", "陈静", "女", "泽州分局", "二级主任科员", "大气污染防治", "王建国", ""),
    ("0006", "迪丽努尔·买买提", "女", "泽州分局", "一级科员", "环境信访", "王建国", ""),
    ("0007", "张伟", "男", "综合行政执法队", "执法一科科长", "工业企业执法检查", "刘志强", ""),
    ("0008", "孙浩", "男", "综合行政执法队", "三级主任科员", "移动源执法", "刘志强", ""),
    ("0009", "周敏", "女", "综合行政执法队", "一级科员", "", "刘志强", ""),
    ("0010", "吴刚", "男", "综合行政执法队", "二级科员", "案件审核", "刘志强", ""),
    ("0011", "郑丽", "女", "办公室", "主任", "办公室全面工作", "刘志强", ""),
    ("0012", "冯军", "男", "办公室", "一级主任科员", "公文、督查督办", "刘志强", "泽州分局"),
    ("0013", "韩雪", "女", "办公室", "二级主任科员", "宣传与信息公开", "刘志强", ""),
    ("0014", "杨帆", "男", "大气环境科", "科长", "大气环境管理", "王建国", ""),
    ("0015", "朱琳", "女", "大气环境科", "一级科员", "重污染天气应对", "王建国", ""),
    ("0016", "马超", "男", "大气环境科", "四级主任科员", "", "王建国", ""),
)


def sample_people() -> list[Person]:
    """The sample roster as Person records, rows numbered as in the written workbook."""
    people = []
    for offset, row in enumerate(SAMPLE_ROWS):
        person_id, name, gender, unit, position, duties, leader, host = row
        people.append(
            Person(
                person_id=person_id,
                name=name,
                gender=Gender(gender),
                unit=unit,
                position=position,
                duties=duties,
                leader=leader,
                host_unit=host,
                source_row=offset + 2,
            )
        )
    return people
