"""Messages of imagery (影像: 前时相/后时相, DOM, MBTiles): key -> Entry."""

from . import Entry

_GDAL = ("可用 `gdalinfo 文件` 查看该文件", "`gdalinfo FILE` shows what the file holds")

MESSAGES: dict[str, Entry] = {
    "imagery.file_missing": Entry(zh="找不到影像文件{path}", en="no imagery file {path}"),
    "imagery.not_raster": Entry(
        zh="{file}不是可读取的栅格影像（{detail}），未作任何改动",
        en="{file} is not a raster image that can be read ({detail}); nothing was changed",
        hints={"any": ("请提供 GeoTIFF、COG 或 MBTiles 文件", "give a GeoTIFF, COG or MBTiles file")}),
    "imagery.truncated": Entry(
        zh="{file}不完整，读取失败（{detail}），可能在拷贝或下载中被截断，未作任何改动",
        en="{file} is incomplete and cannot be read ({detail}): probably cut short while copied or downloaded; "
           "nothing was changed",
        hints={"any": ("请重新拷贝完整的文件后再导入", "copy the whole file again, then import it")}),
    "imagery.no_georeference": Entry(
        zh="{file}没有地理参考（无坐标或仅有像素坐标，也没有 .tfw/.aux.xml），无法放到地图上，未作任何改动",
        en="{file} has no georeference (pixel coordinates only, no .tfw or .aux.xml), so it cannot be placed on "
           "the map; nothing was changed",
        hints={"any": ("请向提供单位索取带坐标的 GeoTIFF，或在 QGIS 中配准后导出",
                       "ask the sender for a georeferenced GeoTIFF, or georeference it in QGIS and export it")}),
    "imagery.rotated": Entry(
        zh="{file}的地理参考带旋转（如 .tfw 的第2、3行不为0），无法切成地图瓦片，未作任何改动",
        en="{file} has a rotated georeference (lines 2 and 3 of its world file are not 0), which cannot be cut "
           "into map tiles; nothing was changed",
        hints={"any": ("请先纠正为正北方向，例如 `gdalwarp 输入 输出.tif`",
                       "warp it north-up first, e.g. `gdalwarp IN OUT.tif`")}),
    "imagery.not_an_image": Entry(
        zh="{file}是{bands}个波段的{dtype}数据，不是可显示的影像（需8位的灰度、RGB或RGBA），未作任何改动",
        en="{file} holds {bands} band(s) of {dtype}, not a displayable image (8-bit grey, RGB or RGBA needed); "
           "nothing was changed",
        hints={"any": ("请先转换为8位RGB，例如 `gdal_translate -ot Byte -scale -b 1 -b 2 -b 3 输入 输出.tif`",
                       "convert it to 8-bit RGB first, e.g. `gdal_translate -ot Byte -scale -b 1 -b 2 -b 3 IN "
                       "OUT.tif`")}),
    "imagery.crs": Entry(zh="{file}：{reason}", en="{file}: {reason}"),
    "imagery.mbtiles_unreadable": Entry(
        zh="{file}不是可读取的MBTiles（{detail}），未作任何改动",
        en="{file} is not a readable MBTiles file ({detail}); nothing was changed", hints={"any": _GDAL}),
    "imagery.mbtiles_empty": Entry(zh="{file}中没有瓦片，未作任何改动",
                                   en="{file} holds no tiles; nothing was changed"),
    "imagery.mbtiles_format": Entry(
        zh="{file}的瓦片格式为{format}，只支持 png、jpg、webp 影像瓦片，未作任何改动",
        en="{file} holds {format} tiles; only png, jpg and webp image tiles are served; nothing was changed"),
    "imagery.mbtiles_no_bounds": Entry(
        zh="{file}的元数据中没有范围（bounds），无法判断影像位置，未作任何改动",
        en="{file} has no bounds in its metadata, so where it lies is unknown; nothing was changed"),
    "imagery.date_required": Entry(
        zh="请给出影像{file}的拍摄日期", en="give the date {file} was taken",
        hints={"cli": ("如 `--date 2023-03-01`", "e.g. `--date 2023-03-01`"),
               "api": ("参数 date，如 2023-03-01", "parameter date, e.g. 2023-03-01")}),
    "imagery.not_found": Entry(zh="没有编号为{id}的影像（或不在您的管辖范围内）",
                               en="no imagery {id} (or not within your units)",
                               hints={"cli": ("`geo-tracker imagery list` 列出已导入的影像",
                                              "`geo-tracker imagery list` lists the imported imagery")}),
    "imagery.tile_format": Entry(zh="影像瓦片只有 png 和 webp 两种格式，没有{fmt}",
                                 en="imagery tiles come as png or webp, not {fmt}"),
    "imagery.no_tile": Entry(zh="影像{id}在瓦片{z}/{x}/{y}处没有内容（或不在您的管辖范围内）",
                             en="imagery {id} has nothing at tile {z}/{x}/{y} (or it is outside your units)"),
    "imagery.field_zoom": Entry(zh="影像瓦片的级别应在{low}到{high}之间，而不是{zoom}",
                                en="the imagery zoom must be between {low} and {high}, not {zoom}"),
    "report.imagery_docx_only": Entry(
        zh="影像对比附件只能写入Word报告，{fmt}格式不支持", en="the imagery annex goes only into a Word report, not {fmt}",
        hints={"cli": ("请用 `-o 报告.docx`", "use `-o REPORT.docx`")}),
    "imagery.no_clip_fields": Entry(
        zh="{file}的属性中没有指向影像截图的字段（如 QSIMG、HSIMG，值为包内的 .tif/.jpg 文件），现有字段：{fields}",
        en="{file} has no attribute naming image clips (such as QSIMG, HSIMG holding .tif/.jpg files in the zip); "
           "its fields: {fields}",
        hints={"cli": ("单个影像文件请直接导入该文件，并给出 `--date`",
                       "for one image file, import the file itself with `--date`")}),
    "imagery.no_patches_in_zip": Entry(
        zh="{file}中没有图斑矢量数据（Shapefile、GeoPackage等），无法把其中的影像对应到图斑，未作任何改动",
        en="{file} holds no patches (Shapefile, GeoPackage …) to match its images to; nothing was changed",
        hints={"cli": ("单个影像请解压后直接导入该文件，并给出 `--date`",
                       "unzip a single image and import the file itself with `--date`")}),
    "imagery.no_code_field": Entry(
        zh="{file}中找不到图斑编号字段（如 JCBH、TBBH），无法把截图对应到图斑；现有字段：{fields}",
        en="{file} has no patch code field (such as JCBH, TBBH), so clips cannot be matched to patches; its "
           "fields: {fields}"),
    "imagery.clips_refused": Entry(
        zh="{file}中有{count}处影像截图不能导入，未作任何改动：{shown}",
        en="{count} image clip(s) of {file} cannot be imported, nothing was changed: {shown}"),
    "imagery.clip_missing": Entry(
        zh="第{feature}个要素（图斑{code}）的字段{field}指向的文件{value}不在包内",
        en="feature {feature} (patch {code}): {field} names {value}, which is not in the delivery"),
    "imagery.clip_no_date": Entry(
        zh="第{feature}个要素（图斑{code}）的{field}截图没有拍摄日期（QSX/HSX为空）",
        en="feature {feature} (patch {code}): the {field} clip has no date (QSX/HSX empty)",
        hints={"cli": ("可用 `--date` 给出", "give it with `--date`")}),
    "imagery.clip_no_patch": Entry(
        zh="第{feature}个要素的图斑{code}尚未导入", en="feature {feature}: patch {code} is not imported yet",
        hints={"cli": ("请先用 `geo-tracker batches import` 导入该批次，再导入其截图",
                       "import its batch first with `geo-tracker batches import`, then its clips")}),
}
