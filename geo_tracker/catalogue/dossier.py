"""Messages of the dossier (举证材料) a county reviewer reads before 销号: key -> Entry."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    "dossier.bad_suffix": Entry(
        zh="举证材料应写入{suffix}文件，“{path}”不是", en="the dossier is written to a {suffix} file, not {path}",
        hints={"cli": ("请用 -o 给出以{suffix}结尾的文件名", "give -o a file name ending in {suffix}")}),
    "dossier.no_folder": Entry(
        zh="文件夹“{folder}”不存在，无法写出举证材料", en="folder {folder} does not exist: the dossier cannot be written",
        hints={"cli": ("请先建立该文件夹，或换一个 -o 路径", "create it first, or give -o another path")}),
    "dossier.batch_empty": Entry(
        zh="批次{batch}没有可出具举证材料的现行图斑（均已撤回或不在管辖范围内）",
        en="batch {batch} has no current patch to write a dossier for (all withdrawn or outside your units)"),
}
