"""Messages of imports (reading a delivery, checking it, importing a batch): key -> Entry.

The English text is what the CLI and the JSON in English showed before the catalogue, word
for word; what to do next is a hint of its interface. Field names, codes and file names are
parameters, kept as the bureau wrote them.
"""

from . import Entry

_AGAIN = ("请向发件单位重新索取该文件", "ask for the file again")

# --- zip archives ------------------------------------------------------------------------
ARCHIVES: dict[str, Entry] = {
    "imports.zip_member_outside": Entry(
        zh="{archive}：成员“{member}”指向压缩包之外（绝对路径或“..”），已拒绝解压",
        en="{archive}: member {member!r} points outside the archive (absolute path or '..'); refusing to extract it",
        hints={"any": ("请发件单位重新打包", "ask the sender for a clean zip")}),
    "imports.zip_unreadable": Entry(
        zh="{archive}不是可读取的zip压缩包（{reason}）",
        en="{archive} is not a readable zip archive ({reason})"),
    "imports.zip_too_many_members": Entry(
        zh="{archive}含有{count}个文件（上限{limit}个）",
        en="{archive} has {count} members (limit {limit})"),
    "imports.zip_member_link": Entry(
        zh="{archive}：成员“{member}”是符号链接，已拒绝",
        en="{archive}: member {member!r} is a symbolic link; refusing it"),
    "imports.zip_member_ratio": Entry(
        zh="{archive}：成员“{member}”解压后超过压缩大小的{ratio}倍（疑似压缩炸弹），已拒绝",
        en="{archive}: member {member!r} expands more than {ratio}× (a zip bomb?); refusing it"),
    "imports.zip_too_large": Entry(
        zh="{archive}解压后超过{mib} MiB，已拒绝",
        en="{archive} expands beyond {mib} MiB; refusing it"),
}

# --- encodings and files -------------------------------------------------------------------
FILES: dict[str, Entry] = {
    "imports.dbf_too_short": Entry(
        zh="{name}不是dBASE属性表（仅{size}字节）",
        en="{name} is not a dBASE table (only {size} bytes)"),
    "imports.dbf_encoding_unknown": Entry(
        zh="{name}：第{record}条记录字段“{field}”的文字（{raw}）既不是UTF-8也不是GBK/GB18030编码",
        en="{name}: text in record {record}, field {field!r} ({raw}) is neither UTF-8 nor GBK/GB18030",
        hints={"cli": ("请用 --encoding 指定编码（如BIG5）", "give --encoding (e.g. BIG5)"),
               "web": ("请把属性表另存为UTF-8或GB18030编码后重新上传",
                       "save the table as UTF-8 or GB18030 and upload it again")}),
    "imports.text_undecodable": Entry(
        zh="{name}：无法按{candidates}编码读取该文件",
        en="{name}: cannot decode the file as {candidates}",
        hints={"any": ("请另存为UTF-8或GB18030编码后重试", "save it as UTF-8 or GB18030 and try again")}),
    "imports.evidence_missing": Entry(
        zh="佐证材料文件{path}不存在", en="evidence file {path} does not exist",
        hints={"any": ("请检查路径", "check the path")}),
    "imports.file_missing": Entry(
        zh="{path}不存在", en="{path} does not exist", hints={"any": ("请检查路径", "check the path")}),
    "imports.file_empty": Entry(
        zh="{name}是空文件（0字节）", en="{name} is empty (0 bytes)", hints={"any": _AGAIN}),
    "imports.nothing": Entry(zh="无", en="nothing"),
    "imports.no_suffix": Entry(zh="（无扩展名）", en="(none)"),
    "imports.no_dataset_in_folder": Entry(
        zh="{name}中没有Shapefile、GeoPackage、File Geodatabase、GeoJSON、KML或坐标txt数据（找到：{found}）",
        en="{name} contains no Shapefile, GeoPackage, File Geodatabase, GeoJSON, KML or 坐标txt (found: {found})"),
    "imports.several_datasets": Entry(
        zh="{name}中有{count}个数据集（{listed}）",
        en="{name} holds {count} datasets ({listed})",
        hints={"cli": ("请用 --layer NAME 选择其中一个，或用 --all-layers 作为一个批次一并导入",
                       "choose one with --layer NAME, or import them together as one batch with --all-layers"),
               "web": ("请分别上传各个数据集，或在“图层”中填写要导入的一个",
                       "upload the datasets one by one, or name the one to import under “layer”")}),
    "imports.mixed_formats": Entry(
        zh="{name}混有多种格式（{drivers}）：只有同一格式、字段相同的文件才能一并导入",
        en="{name} mixes formats ({drivers}): only files of one format and with the same fields import together",
        hints={"any": ("请逐个导入", "import them one by one")}),
    "imports.mixed_fields": Entry(
        zh="{name}：{member}的字段与{first}不同（不同字段：{differ}）；只有字段相同的数据集才能一并导入",
        en="{name}: {member} has other fields than {first} (differing: {differ}); "
           "only datasets with the same fields import together",
        hints={"any": ("请逐个导入", "import them one by one")}),
    "imports.raster_image": Entry(
        zh="{name}是栅格影像，不是图斑面数据",
        en="{name} is a raster image, not polygon data",
        hints={"any": ("请导入随附的图斑Shapefile、GeoPackage或坐标txt",
                       "import the patch Shapefile / GeoPackage / 坐标txt that came with it")}),
    "imports.table_without_geometry": Entry(
        zh="{name}是不含图形的表格：图斑须为面数据（Shapefile、GeoPackage、KML、坐标txt）",
        en="{name} is a table without geometry: patches need polygons (Shapefile, GeoPackage, KML, 坐标txt)"),
    "imports.text_not_zuobiao": Entry(
        zh="{name}是文本文件，但不是坐标txt（没有[地块坐标]节）",
        en="{name} is a text file but not a 坐标txt (no [地块坐标] section)"),
    "imports.file_type_unsupported": Entry(
        zh="{name}：不支持的文件类型{suffix}；可导入.shp（或含.shp的文件夹、zip压缩包）、.gpkg、.gdb、"
           ".geojson、.kml、.kmz和坐标txt（.txt）",
        en="{name}: unsupported file type {suffix}; geo_tracker reads .shp (or a folder/zip with one), .gpkg, "
           ".gdb, .geojson, .kml, .kmz and 坐标txt .txt"),
}

# --- shapefiles and GDAL datasets -----------------------------------------------------------
DATASETS: dict[str, Entry] = {
    "imports.shapefile_empty": Entry(
        zh="{name}是空文件（0字节）：成果数据不完整", en="{name} is empty (0 bytes): the delivery is incomplete",
        hints={"any": ("请重新索取", "ask for it again")}),
    "imports.shapefile_short": Entry(
        zh="{name}不完整：只有{size}字节，不足Shapefile文件头长度",
        en="{name} is truncated: {size} bytes, less than a shapefile header"),
    "imports.shapefile_bad_code": Entry(
        zh="{name}不是Shapefile文件（文件代码{code}，应为9994）",
        en="{name} is not a shapefile (file code {code}, expected 9994)"),
    "imports.shapefile_truncated": Entry(
        zh="{name}不完整：文件头记载{declared}字节，实际只有{size}字节；复制或下载时被截断",
        en="{name} is truncated: its header says {declared} bytes but the file has {size}; "
           "the copy or download was cut short",
        hints={"any": _AGAIN}),
    "imports.shapefile_no_dbf": Entry(
        zh="{name}旁边没有{stem}.dbf：缺少属性表（图斑编号、面积）",
        en="{name} has no {stem}.dbf beside it: the attribute table (patch codes, areas) is missing",
        hints={"any": ("请县局将.shp、.shx、.dbf和.prj一并发送", "ask the bureau to send .shp, .shx, .dbf and .prj together")}),
    "imports.shapefile_no_shx": Entry(
        zh="{name}缺少.shx索引文件：已根据.shp重建（GDAL SHAPE_RESTORE_SHX）",
        en="{name} has no .shx index: rebuilt it from the .shp (GDAL SHAPE_RESTORE_SHX)"),
    "imports.dataset_unopenable": Entry(
        zh="{name}无法作为矢量数据打开：{reason}", en="{name} cannot be opened as a vector dataset: {reason}"),
    "imports.dataset_unreadable": Entry(zh="{name}无法读取：{reason}", en="{name} cannot be read: {reason}"),
    "imports.layer_missing": Entry(
        zh="{name}中没有图层“{layer}”；现有图层：{layers}",
        en="{name} has no layer {layer!r}; its layers are: {layers}"),
    "imports.several_polygon_layers": Entry(
        zh="{name}有{count}个面图层（{layers}）", en="{name} has {count} polygon layers ({layers})",
        hints={"cli": ("请用 --layer 选择其中一个", "choose one with --layer"),
               "web": ("请在“图层”中填写要导入的图层名", "name the layer to import under “layer”")}),
    "imports.no_layers": Entry(zh="{name}中没有任何图层", en="{name} contains no layers"),
    "imports.layers_without_geometry": Entry(
        zh="{name}没有图形（图层：{layers}）：不含图形的表格不能作为图斑导入",
        en="{name} has no geometry (layers: {layers}): a table without shapes cannot be imported as patches",
        hints={"any": ("请索取Shapefile、GeoPackage或坐标txt", "ask for the Shapefile/GeoPackage, or a 坐标txt")}),
    "imports.no_polygon_layer": Entry(
        zh="{name}没有面图层（图层：{layers}）：图斑须为面，不能是点或线",
        en="{name} has no polygon layer (layers: {layers}): patches must be polygons, not points or lines"),
    "imports.no_geometry_column": Entry(
        zh="{name}没有图形列：不含图形的表格（如CSV）不能作为图斑导入",
        en="{name} has no geometry column: a table without shapes (e.g. CSV) cannot be imported as patches"),
    "imports.no_features": Entry(
        zh="{name}中没有要素，无可导入内容", en="{name} has no features: nothing to import"),
    "imports.layer_no_features": Entry(
        zh="{name}的图层“{layer}”中没有要素，无可导入内容", en="{name} layer {layer!r} has no features: nothing to import"),
}

# --- 坐标txt (报部格式) -----------------------------------------------------------------------
ZUOBIAO: dict[str, Entry] = {
    "imports.zuobiao_bad_line": Entry(
        zh="{path}第{line_no}行：“{line}”既不是地块头行（以“@”结尾），也不是坐标行（点号,圈号,X,Y）",
        en="{path} line {line_no}: {line!r} is neither a parcel header (ending in '@') nor a point line "
           "(点号,圈号,X,Y)",
        hints={"any": ("请修改或删除该行", "fix or remove the line")}),
    "imports.zuobiao_point_first": Entry(
        zh="{path}第{line_no}行：坐标行“{line}”出现在所有地块头行之前；每个地块的坐标须紧随其头行",
        en="{path} line {line_no}: point line {line!r} comes before any parcel header; "
           "each parcel's points must follow its header line"),
    "imports.zuobiao_bad_coordinates": Entry(
        zh="{path}第{line_no}行：“{line}”中的坐标不是数字",
        en="{path} line {line_no}: cannot read the coordinates in {line!r} as numbers"),
    "imports.zuobiao_no_section": Entry(
        zh="{path}：缺少[{section}]节；该文件不是坐标txt（报部格式），或内容不完整",
        en="{path}: the [{section}] section is missing; this is not a 坐标txt (报部格式) file, or it is truncated"),
    "imports.zuobiao_no_parcels": Entry(
        zh="{path}：[{section}]节中没有地块", en="{path}: the [{section}] section has no parcels"),
    "imports.zuobiao_short_header": Entry(
        zh="{path}第{line_no}行：地块头行“{line}”字段不足；应为"
           "“界址点数,地块面积,地块号,地块名称,记录图形属性,图幅号,地块用途,地类编码,@”",
        en="{path} line {line_no}: parcel header {line!r} has too few fields; expected "
           "界址点数,地块面积,地块号,地块名称,记录图形属性,图幅号,地块用途,地类编码,@"),
    "imports.zuobiao_not_key_value": Entry(
        zh="第{line_no}行：“{line}”不是“键=值”格式，已忽略",
        en="line {line_no}: ignored {line!r}, which is not a key=value line"),
    "imports.zuobiao_no_shape_kind": Entry(
        zh="第{line_no}行：地块头行没有记录图形属性（面/线/点）；已将“{value}”作为记录图形属性，按面读取",
        en="line {line_no}: the parcel header has no 记录图形属性 (面/线/点); "
           "read {value!r} as the 记录图形属性 and the record as a 面"),
    "imports.zuobiao_no_parcel_no": Entry(zh="（无地块号）", en="(no 地块号)"),
    "imports.zuobiao_parcel": Entry(zh="地块{number}", en="parcel {number}"),
    "imports.zuobiao_parcel_named": Entry(zh="地块{number}（{name}）", en="parcel {number} ({name})"),
    "imports.zuobiao_bad_count": Entry(
        zh="第{line_no}行：{parcel}的界址点数“{value}”不是整数，已忽略",
        en="line {line_no}: {parcel} has 界址点数 {value!r}, which is not a whole number; ignored"),
    "imports.zuobiao_bad_area": Entry(
        zh="第{line_no}行：{parcel}的地块面积“{value}”不是以公顷、亩或平方米计的数字，已忽略",
        en="line {line_no}: {parcel} has 地块面积 {value!r}, which is not a number in 公顷, 亩 or 平方米; ignored"),
    "imports.zuobiao_axis_unknown": Entry(
        zh="从坐标数值看不出哪一列是纵坐标；已按格式规定将X作纵坐标（北）、Y作横坐标（东）读取",
        en="the magnitudes of the coordinates do not reveal which column is the northing; "
           "read X as northing and Y as easting, as the format specifies"),
    "imports.zuobiao_axis_count": Entry(
        zh="{count}个点按{order}读取，首个在第{line_no}行",
        en="{count} points read as {order}, the first at line {line_no}"),
    "imports.zuobiao_axis_mixed": Entry(
        zh="{path}：全文坐标列顺序不一致（{described}）；请将每个点都写成X（纵坐标，北）、Y（横坐标，东）",
        en="{path}: the coordinate columns are not in the same order throughout the file "
           "({described}); write every point as X (northing), Y (easting)"),
    "imports.zuobiao_axis_swapped": Entry(
        zh="坐标列顺序颠倒：第三列为横坐标、第四列为纵坐标（格式规定X为纵坐标在前）；已按“横坐标,纵坐标”读取",
        en="the coordinate columns are swapped: the third column holds eastings and the fourth "
           "northings (the format specifies X = northing first); read as easting,northing"),
    "imports.zuobiao_lon_first": Entry(
        zh="坐标为经纬度且经度在前（格式规定X为纬度在前）；已按“经度,纬度”读取",
        en="the coordinates are longitude/latitude with the longitude first "
           "(the format specifies X = latitude first); read as lon,lat"),
    "imports.zuobiao_not_polygon": Entry(
        zh="第{line_no}行：{parcel}是{kind}记录，不是面状图斑",
        en="line {line_no}: {parcel} is a {kind} record, not a polygon patch"),
    "imports.zuobiao_no_points": Entry(
        zh="第{line_no}行：{parcel}没有坐标行", en="line {line_no}: {parcel} has no coordinate lines"),
    "imports.zuobiao_short_ring": Entry(
        zh="第{line_no}行：{parcel}有一个环的不同点少于3个",
        en="line {line_no}: {parcel} has a ring with fewer than 3 distinct points"),
    "imports.zuobiao_count_differs": Entry(
        zh="第{line_no}行：{parcel}记载界址点数{declared}，但有{lines}个坐标行（{distinct}个不同点）；已按坐标行读取",
        en="line {line_no}: {parcel} declares 界址点数 {declared} but has {lines} coordinate lines "
           "({distinct} distinct points); the coordinate lines were used"),
    "imports.zuobiao_rings_malformed": Entry(
        zh="第{line_no}行：{parcel}的环严重畸形，无法判断内外关系（{reason}）；每个环已作为单独部分读取",
        en="line {line_no}: {parcel} has rings too malformed to nest ({reason}); each ring was read as a separate part"),
    "imports.parcel_not_polygon": Entry(
        zh="地块{parcel}（第{line}行）是{kind}记录，不是面状图斑",
        en="地块 {parcel} (line {line}) is a {kind} record, not a polygon patch"),
    "imports.parcel_no_polygon": Entry(
        zh="地块{parcel}（第{line}行）没有可用的面：{warnings}",
        en="地块 {parcel} (line {line}) has no usable polygon: {warnings}"),
    "imports.zuobiao_old_datum": Entry(
        zh="{name}：坐标系={datum}不是CGCS2000；转换需要县局公布的七参数",
        en="{name}: 坐标系={datum} is not CGCS2000; converting it needs the 7-parameter set your bureau publishes",
        hints={"cli": ("请用 --crs 给出（如'+proj=tmerc ... +towgs84=...'）",
                       "give --crs with it (e.g. '+proj=tmerc ... +towgs84=...')"),
               "web": ("请先将数据转换为CGCS2000坐标系后再上传", "convert the data to CGCS2000 before uploading it")}),
    "imports.zuobiao_unknown_datum": Entry(
        zh="{name}：文件头“坐标系={datum}”不是可识别的坐标系（2000国家大地坐标系/CGCS2000、1980西安坐标系、"
           "1954北京坐标系、WGS84）",
        en="{name}: the header line 坐标系={datum} names no coordinate system geo_tracker knows "
           "(2000国家大地坐标系 / CGCS2000, 1980西安坐标系, 1954北京坐标系, WGS84)",
        hints={"cli": ("请更正该行，或用 --crs 指定坐标系", "correct that line, or give the CRS with --crs"),
               "web": ("请更正该行后重新上传", "correct that line and upload the file again")}),
    "imports.zuobiao_zone_disagrees": Entry(
        zh="{name}：文件头带号={zone}与横坐标前的带号{prefix}不一致；已以坐标为准（第{prefix}带）",
        en="{name}: header 带号={zone} disagrees with the zone {prefix} written in front of the eastings; "
           "trusted the coordinates (zone {prefix})"),
    "imports.zuobiao_zone_not_china": Entry(
        zh="{name}：文件头带号={zone}（{width}°分带）不是我国范围内的投影带，已忽略",
        en="{name}: header 带号={zone} ({width}° zones) is not a zone of China; ignored"),
}

# --- field mapping -------------------------------------------------------------------------
FIELDS: dict[str, Entry] = {
    "imports.field_not_numeric": Entry(
        zh="{source}：第{feature}个要素的字段“{field}”值为{value}，不是数字",
        en="{source}: field {field!r} of feature {feature} holds {value}, not a number",
        hints={"any": ("请更正该值或改用其他字段", "fix the value or choose another field")}),
    "imports.profile_unknown": Entry(
        zh="未知的字段方案“{profile}”；可选：{known}", en="unknown profile {profile!r}; known: {known}"),
    "imports.field_missing": Entry(
        zh="{source}中没有字段“{field}”（{option}）；现有字段：{fields}",
        en="{source} has no field {field!r} ({option}); its fields are: {fields}"),
    "imports.area_unit_mismatch": Entry(
        zh="{field}声明的单位为{declared}，但其数值与图形面积按{best}相符（中位比值{ratio}）",
        en="{field} was declared in {declared}, but its values match the geometry in {best} (median ratio {ratio})",
        hints={"cli": ("请检查 --area-unit", "check --area-unit"),
               "web": ("请检查所选的面积单位", "check the area unit chosen")}),
    "imports.area_unit_no_fit": Entry(
        zh="{field}的数值与图形面积在任何单位下都不相符（按{best}中位比值为{ratio}）：它真的是图斑面积吗？",
        en="{field} matches the geometry in no unit (median ratio {ratio} in {best}): is it really the patch area?",
        hints={"cli": ("请用 --area-field/--area-unit 指定", "Use --area-field/--area-unit"),
               "web": ("请指定面积字段和单位", "name the area field and its unit")}),
}

# --- coordinate reference systems ------------------------------------------------------------
_CRS_CLI = ("请用 --crs 指定坐标系", "give --crs")
_CRS_WEB = ("请向县局确认数据所用的坐标系，转换为CGCS2000后重新上传",
            "ask the bureau which coordinate system the data use, and upload them converted to CGCS2000")
_GIVE_CRS = {"cli": _CRS_CLI, "web": _CRS_WEB}

CRS: dict[str, Entry] = {
    "imports.crs_unparsable": Entry(
        zh="{what}“{text}”不是坐标参照系",
        en="{what} {text!r} is not a coordinate reference system",
        hints={"cli": ("请给出如EPSG:4490（CGCS2000经纬度）或EPSG:4527（CGCS2000 3°带第39带，带带号）",
                       "give e.g. EPSG:4490 (CGCS2000 lon/lat) or EPSG:4527 (CGCS2000 3° zone 39 with prefix)"),
               "any": ("可填写如EPSG:4490（CGCS2000经纬度）或EPSG:4527（CGCS2000 3°带第39带，带带号）",
                       "give e.g. EPSG:4490 (CGCS2000 lon/lat) or EPSG:4527 (CGCS2000 3° zone 39 with prefix)")}),
    "imports.crs_no_coordinates": Entry(
        zh="{source}没有可用于判断坐标系的坐标", en="{source} has no coordinates to infer its CRS from"),
    "imports.crs_latlon_swapped": Entry(
        zh="{source}：坐标像是纬度在前、经度在后（x≈{x}，y≈{y}）",
        en="{source}: coordinates look like lat/lon in swapped order (x≈{x}, y≈{y})",
        hints={"cli": ("请调整坐标顺序，或用 --crs 指定", "fix the axis order or give --crs"),
               "web": ("请调整坐标顺序后重新上传", "fix the axis order and upload the file again")}),
    "imports.crs_lonlat_outside": Entry(
        zh="{source}：经纬度坐标不在我国范围内（x≈{x}，y≈{y}）",
        en="{source}: lon/lat coordinates outside China (x≈{x}, y≈{y})", hints=_GIVE_CRS),
    "imports.crs_zones_differ": Entry(
        zh="{source}：横坐标带号不一致{zones}；同一批次须在同一投影带内",
        en="{source}: eastings carry different zone prefixes {zones}; a batch must be in one zone",
        hints={"cli": ("请拆分后导入，或用 --crs 指定", "split it or give --crs"),
               "web": ("请按投影带拆分后分别上传", "split it by zone and upload the parts one by one")}),
    "imports.crs_bad_zone": Entry(
        zh="{source}：横坐标{x}的带号为{zone}，既不是我国的6°带（13–23），也不是3°带（25–45）",
        en="{source}: easting {x} starts with zone {zone}, which is neither a 6° zone (13–23) "
           "nor a 3° zone (25–45) of China", hints=_GIVE_CRS),
    "imports.crs_zone_outside": Entry(
        zh="{source}：横坐标带号为{zone}，但纵坐标{low}–{high}不在我国范围内",
        en="{source}: eastings carry zone {zone} but northings {low}–{high} do not fall in China",
        hints={"cli": ("请检查坐标顺序，或用 --crs 指定", "check the axis order or give --crs"),
               "web": ("请检查坐标顺序后重新上传", "check the axis order and upload the file again")}),
    "imports.crs_axes_swapped": Entry(
        zh="{source}：x≈{x}像纵坐标，y≈{y}像横坐标，坐标轴颠倒（测绘习惯X为纵坐标）",
        en="{source}: x≈{x} looks like a northing and y≈{y} like an easting: the axes are swapped "
           "(surveyors write X=northing)",
        hints={"cli": ("请修改文件，或用 --crs 指定", "fix the file or give --crs"),
               "web": ("请修改文件后重新上传", "fix the file and upload it again")}),
    "imports.crs_unrecognised": Entry(
        zh="{source}：坐标（x≈{x}，y≈{y}）既不是经纬度，也不是CGCS2000高斯-克吕格投影米制坐标",
        en="{source}: coordinates (x≈{x}, y≈{y}) are neither lon/lat nor CGCS2000 Gauss-Krüger metres",
        hints=_GIVE_CRS),
    "imports.crs_cm_unknown": Entry(
        zh="{source}：横坐标不带带号，无法确定中央经线，且尚未导入行政区界线用以判断",
        en="{source}: eastings carry no zone prefix, so the central meridian is unknown and "
           "no admin boundaries are loaded to decide it",
        hints={"cli": ("请用 --crs 指定（候选：{listed}）", "give --crs (candidates: {listed})"),
               "web": ("请先导入行政区界线，或向县局确认坐标系（候选：{listed}）",
                       "load the admin boundaries first, or ask the bureau for the CRS (candidates: {listed})")}),
    "imports.crs_cm_none_fits": Entry(
        zh="{source}：横坐标不带带号，且75–135°E之间没有一条中央经线能使本批图斑落入已导入的行政区范围",
        en="{source}: eastings carry no zone prefix and no central meridian 75–135°E puts the "
           "batch inside the loaded admin boundaries", hints=_GIVE_CRS),
    "imports.crs_cm_several_fit": Entry(
        zh="{source}：横坐标不带带号，且有多条中央经线都与已导入的行政区相符（{listed}）",
        en="{source}: eastings carry no zone prefix and several central meridians fit the loaded "
           "admin boundaries ({listed})", hints=_GIVE_CRS),
    "imports.crs_what_given": Entry(zh="指定的坐标系{value}", en="--crs {value}"),
    "imports.crs_what_own": Entry(zh="自带坐标系{label}（{name}）", en="its own CRS {label} ({name})"),
    "imports.crs_contradicts_likely": Entry(
        zh="{source}声明{what}，但其坐标（x≈{x}，y≈{y}）按该坐标系不在我国范围内；坐标与{label}相符（{reason}）",
        en="{source} declares {what}, but its coordinates (x≈{x}, y≈{y}) do not fall in China in that CRS; "
           "the coordinates fit {label} ({reason})",
        hints={"cli": ("请用 --crs {label} 重新导入", "rerun with --crs {label}"),
               "web": ("请向县局核实坐标系（.prj文件）后重新上传", "have the bureau correct the CRS (.prj) and upload again")}),
    "imports.crs_contradicts": Entry(
        zh="{source}声明{what}，但其坐标（x≈{x}，y≈{y}）按该坐标系不在我国范围内，也无法推断出其他坐标系（{reason}）",
        en="{source} declares {what}, but its coordinates (x≈{x}, y≈{y}) do not fall in China in that CRS; "
           "and no CRS could be inferred instead ({reason})"),
    "imports.crs_lonlat_china": Entry(
        zh="坐标为我国范围内的经纬度：CGCS2000（EPSG:4490）",
        en="coordinates are lon/lat within China: CGCS2000 (EPSG:4490)"),
    "imports.crs_zone_prefix": Entry(
        zh="横坐标带号为{zone}：CGCS2000 {kind}高斯-克吕格投影第{zone}带（中央经线{cm}°E，EPSG:{epsg}）",
        en="eastings carry zone prefix {zone}: CGCS2000 {kind} Gauss-Krüger zone {zone} (CM {cm}°E, EPSG:{epsg})"),
    "imports.crs_configured_cm": Entry(
        zh="横坐标不带带号；按配置的中央经线{cm}°E（EPSG:{epsg}）",
        en="eastings carry no zone prefix; configured central meridian {cm}°E (EPSG:{epsg})"),
    "imports.crs_cm_from_boundaries": Entry(
        zh="横坐标不带带号；只有中央经线{cm}°E（EPSG:{epsg}）能使本批图斑落入已导入的行政区范围",
        en="eastings carry no zone prefix; only central meridian {cm}°E (EPSG:{epsg}) puts the batch "
           "inside the loaded admin boundaries"),
    "imports.crs_from_zuobiao_header": Entry(
        zh="横坐标不带带号；按文件头带号={zone}、几度分带={width}取中央经线{cm}°E（{label}）",
        en="eastings carry no zone prefix; header 带号={zone}, 几度分带={width} gives CM {cm}°E ({label})"),
    "imports.crs_given": Entry(zh="按指定的坐标系（{label}，{name}）", en="given with --crs ({label}, {name})"),
    "imports.crs_from_file": Entry(zh="按文件自带坐标系（{label}，{name}）", en="from the file ({label}, {name})"),
    "imports.crs_old_datum": Entry(
        zh="坐标为{label}：未使用县局公布的七参数即转换为CGCS2000，位置可能偏差数十米",
        en="coordinates are in {label}: converted to CGCS2000 without a published 7-parameter set, which can "
           "shift positions by tens of metres",
        hints={"cli": ("如需测量精度，请用 --crs 给出县局公布的参数（+towgs84=...）",
                       "for survey accuracy give --crs with the parameters (+towgs84=...) your bureau publishes"),
               "web": ("如需测量精度，请先用县局公布的七参数转换为CGCS2000后再上传",
                       "for survey accuracy convert the data to CGCS2000 with the bureau's parameters first")}),
}

#: A CRS's name in Chinese where it is one of China's (its English is pyproj's name, word for word).
CRS_NAMES: dict[str, Entry] = {
    "imports.crs_name.cgcs2000_geographic": Entry(
        zh="CGCS2000经纬度坐标系", en="China Geodetic Coordinate System 2000"),
    "imports.crs_name.geographic": Entry(zh="{datum}经纬度坐标系", en="{datum}"),
    "imports.crs_name.gk3_zone": Entry(
        zh="{datum} 3°带高斯-克吕格投影第{zone}带", en="{datum} / 3-degree Gauss-Kruger zone {zone}"),
    "imports.crs_name.gk3_cm": Entry(
        zh="{datum} 3°带高斯-克吕格投影（中央经线{cm}°E）", en="{datum} / 3-degree Gauss-Kruger CM {cm}E"),
    "imports.crs_name.gk6_zone": Entry(
        zh="{datum} 6°带高斯-克吕格投影第{zone}带", en="{datum} / Gauss-Kruger zone {zone}"),
    "imports.crs_name.gk6_cm": Entry(
        zh="{datum} 6°带高斯-克吕格投影（中央经线{cm}°E）", en="{datum} / Gauss-Kruger CM {cm}E"),
    "imports.crs_datum.xian80": Entry(zh="西安80", en="Xian 1980"),
    "imports.crs_datum.beijing54": Entry(zh="北京54", en="Beijing 1954"),
    "imports.crs_old_datum_label.xian80": Entry(zh="西安80坐标系", en="Xian 1980 (西安80)"),
    "imports.crs_old_datum_label.beijing54": Entry(zh="北京54坐标系", en="Beijing 1954 (北京54)"),
    "imports.crs_zone_not_china": Entry(
        zh="带号{zone}既不是我国的6°带（13–23），也不是3°带（25–45）",
        en="zone {zone} is neither a 6° zone (13–23) nor a 3° zone (25–45) of China"),
    "imports.crs_cm_not_china": Entry(
        zh="中央经线{cm}不是我国75–135°E之间每3°一条的中央经线之一",
        en="central meridian {cm} is not one of China's 75–135°E every 3°",
        hints={"cli": ("请用 --central-meridian 给出75–135之间3的倍数，或用 --crs 指定坐标系",
                       "give --central-meridian as a multiple of 3 from 75 to 135, or give --crs"),
               "any": ("中央经线须为75–135°E之间3的倍数", "the central meridian must be a multiple of 3 from 75 to 135°E")}),
}

# --- how a delivery was read: its encoding, fields and units (the report's decisions) -----------
_CODE_FIELD_WEB = ("导入页面不能另选编号字段；如成果中另有编号字段，请县局按标准字段名（如JCBH）更正后重新下发",
                   "the import page cannot choose another code field; if the delivery has one, ask the bureau "
                   "to name it as the standard does (e.g. JCBH) and send it again")
DECISIONS: dict[str, Entry] = {
    "imports.decision.encoding_given": Entry(zh="按指定的编码", en="given with --encoding"),
    "imports.decision.encoding_cpg": Entry(zh="按{cpg}文件", en="from {cpg}"),
    "imports.decision.encoding_ascii": Entry(zh="无.cpg文件；全部文字均为ASCII字符", en="no .cpg; all text is ASCII"),
    "imports.decision.encoding_detected": Entry(
        zh="无.cpg文件；全部{count}个非ASCII文字均可按{encoding}解码",
        en="no .cpg; all {count} non-ASCII texts decode as {encoding}"),
    "imports.decision.encoding_cpg_wrong": Entry(
        zh="{cpg}声明为{declared}，但文字并非{declared}编码；全部{count}个非ASCII文字均可按{encoding}解码",
        en="{cpg} says {declared}, but the text is not {declared}; all {count} non-ASCII texts decode as {encoding}"),
    "imports.decision.encoding_by_spec": Entry(
        zh="该格式按规范使用UTF-8编码", en="the format's text is UTF-8 by specification"),
    "imports.decision.encoding_zuobiao": Entry(zh="坐标txt按{codec}解码", en="坐标txt decoded as {codec}"),
    "imports.decision.per_file": Entry(zh="{listed}", en="{listed}"),
    "imports.decision.file_encoding": Entry(zh="{file}：{encoding}", en="{file}: {encoding}"),
    "imports.decision.file_crs": Entry(zh="{file}：{label}（{reason}）", en="{file}: {label} ({reason})"),
    "imports.decision.profile": Entry(zh="{profile}", en="{profile}"),
    "imports.profile.weipian": Entry(zh="卫片执法", en="weipian: 卫片执法 (natural-resources satellite enforcement)"),
    "imports.profile.forestry": Entry(zh="森林督查", en="forestry: 森林督查 (forest supervision)"),
    "imports.profile.zuobiao": Entry(zh="坐标txt报部格式", en="zuobiao: 坐标txt 报部格式"),
    "imports.profile.kml": Entry(zh="KML/KMZ（奥维互动地图等）", en="kml: KML/KMZ (奥维互动地图 and others)"),
    "imports.profile.generic": Entry(zh="通用（未识别出已知的字段方案）", en="generic: generic (no known profile)"),
    "imports.decision.code_field": Entry(zh="取自字段{field}", en="from field {field}"),
    "imports.decision.codes_generated": Entry(
        zh="未找到图斑编号字段：已自动生成编号", en="no patch-code field found: codes generated",
        hints={"cli": ("请用 --id-field 指定编号字段", "use --id-field"), "web": _CODE_FIELD_WEB}),
    "imports.decision.codes_from_files": Entry(
        zh="{decision}；其中{count}个编号取自文件名（地块号为占位值或在多个文件中重复）",
        en="{decision}; {count} codes taken from the file names (地块号 a placeholder or repeated across files)"),
    "imports.decision.no_issued_area": Entry(zh="无下发面积字段", en="no issued-area field"),
    "imports.decision.area_zuobiao": Entry(
        zh="取自字段{field}（除数值注明单位外按公顷计）", en="from field {field} (公顷 unless the value names its unit)"),
    "imports.decision.unit_no_values": Entry(
        zh="{field}：没有可与图形面积比较的数值；按{unit}计",
        en="{field}: no values to compare with the geometry; taken as {unit}"),
    "imports.decision.unit_declared": Entry(zh="{field}按{unit}计（已指定）", en="{field} in {unit} (declared)"),
    "imports.decision.unit_closest": Entry(
        zh="{field}：按最接近的单位{unit}计", en="{field}: taken as {unit}, the closest unit"),
    "imports.decision.unit_matches": Entry(
        zh="{field}按{unit}计：数值与计算面积相符（中位比值{ratio}）",
        en="{field} in {unit}: values match the computed areas (median ratio {ratio})"),
    "imports.decision.cultivated_declined": Entry(
        zh="无", en="none",
        hints={"cli": ("已用 --cultivated-field '' 声明成果不含耕地面积字段", "declared with --cultivated-field ''"),
               "any": ("已声明成果不含耕地面积字段", "declared to have no such field")}),
    "imports.decision.no_cultivated": Entry(zh="无耕地面积字段", en="no cultivated-area field"),
    "imports.decision.cultivated_field": Entry(zh="取自字段{field}，按{unit}计", en="from field {field} in {unit}"),
    "imports.decision.cultivated_computed": Entry(
        zh="由三调地类图斑计算（地类编码0101/0102/0103，扣除田坎系数），非下发数据",
        en="computed from the 三调 land-use layer (DLBM 0101/0102/0103, net of KCXS), not issued"),
    "imports.decision.stated_area": Entry(
        zh="{count}/{stated}个图斑的下发面积与{basis}相符；每个图斑均与两者中较接近的一个比较",
        en="stated areas match {basis} for {count} of {stated} patches; each is checked against the nearer of the two"),
    "imports.decision.basis.planar": Entry(
        zh="高斯-克吕格平面面积（多数成果按此计算）", en="the planar Gauss-Krüger area (as many writers compute it)"),
    "imports.decision.basis.ellipsoidal": Entry(zh="CGCS2000椭球面积", en="the ellipsoidal area on CGCS2000"),
    "imports.decision.basis.either": Entry(
        zh="椭球面积和平面面积（两者之差小于数值精度）",
        en="both the ellipsoidal and the planar area (they differ less than the figures show)"),
}

# --- per-feature checks (problems and flags of an import report) -----------------------------
CHECKS: dict[str, Entry] = {
    "imports.flag_area_deviation": Entry(
        zh="计算面积{computed}亩，下发面积{issued}亩（{rel}%）",
        en="computed {computed} 亩 vs issued {issued} 亩 ({rel}%)"),
    "imports.flag_sliver": Entry(zh="面积{m2} m²，不足1 m²", en="area {m2} m² is below 1 m²"),
    "imports.flag_cultivated_exceeds": Entry(
        zh="耕地面积{cultivated}亩超过图斑面积{area}亩：该字段是否为供地面积而非耕地面积？",
        en="cultivated {cultivated} 亩 exceeds the patch area {area} 亩: is the field 供地面积 rather than "
           "耕地面积 here?",
        hints={"cli": ("请用 --cultivated-field 指定耕地面积字段", "use --cultivated-field")}),
    "imports.geometry_missing": Entry(zh="图形为空或缺失", en="empty or missing geometry"),
    "imports.geometry_not_polygon": Entry(
        zh="是{kind}，不是面：只能导入面状图斑", en="is a {kind}, not a polygon: only polygon patches can be imported"),
    "imports.geometry_out_of_range": Entry(
        zh="坐标超出范围（转换为CGCS2000后经度{lon_min}–{lon_max}、纬度{lat_min}–{lat_max}；"
           "我国范围为经度73–136、纬度3–54）",
        en="coordinates out of range (lon {lon_min}–{lon_max}, lat {lat_min}–{lat_max} after conversion to "
           "CGCS2000; China is lon 73–136, lat 3–54)"),
    "imports.geometry_repeated_vertices": Entry(
        zh="已删除{count}个重复节点", en="{count} repeated vertices removed"),
    "imports.geometry_invalid": Entry(
        zh="图形无效（{reason}），修复后没有面积", en="invalid geometry ({reason}) that has no area once repaired"),
    "imports.geometry_repaired": Entry(zh="图形无效（{reason}），已自动修复", en="{reason}"),
}

#: Geometry types as shapely names them (the English), for "is a Point, not a polygon".
_GEOMETRY_KINDS = {"Point": "点", "MultiPoint": "多点", "LineString": "线", "MultiLineString": "多线",
                   "LinearRing": "线环", "GeometryCollection": "几何集合", "Polygon": "面", "MultiPolygon": "多面"}
#: GEOS's reasons a polygon is invalid (the English, word for word), each followed by where: "[x y]".
_GEOS_REASONS = {
    "Self-intersection": "自相交", "Ring Self-intersection": "环自相交", "Hole lies outside shell": "内环在外环之外",
    "Holes are nested": "内环相互嵌套", "Interior is disconnected": "内部不连通", "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "环重复", "Too few distinct points in geometry component": "图形部件的不同点过少",
    "Invalid Coordinate": "坐标无效", "Ring is not closed": "环未闭合", "Repeated Point": "节点重复",
    "Topology Validation Error": "拓扑检查错误",
}
#: The key of each GEOS reason: "Ring Self-intersection" -> "imports.geos.ring_self_intersection".
GEOS_REASON_KEYS = {k: "imports.geos." + k.lower().replace(" ", "_").replace("-", "_") for k in _GEOS_REASONS}
GEOMETRY_WORDS: dict[str, Entry] = {
    **{f"imports.geometry_kind.{k}": Entry(zh=v, en=k) for k, v in _GEOMETRY_KINDS.items()},
    **{GEOS_REASON_KEYS[k]: Entry(zh=v + "{at}", en=k + "{at}") for k, v in _GEOS_REASONS.items()},
}

# --- importing a batch -------------------------------------------------------------------------
BATCHES: dict[str, Entry] = {
    "imports.option_source": Entry(
        zh="图斑来源“{value}”不在可选范围内（{known}）", en="--source {value!r} is not one of {known}"),
    "imports.option_batch_empty": Entry(
        zh="须填写批次名称，如“2023年第2批”或“2023-Q3”", en="--batch must name the batch, e.g. '2023年第2批' or '2023-Q3'"),
    "imports.option_deadline_early": Entry(
        zh="整改期限{deadline}早于下发日期{issued_on}", en="--deadline {deadline} is before --issued-on {issued_on}"),
    "imports.option_area_unit": Entry(
        zh="面积单位“{value}”不在可选范围内（{known}）", en="--area-unit {value!r} is not one of {known}"),
    "imports.option_relapse_share": Entry(
        zh="复发重叠比例须大于0且不超过1，现为{value}", en="--relapse-share must be in (0, 1], got {value}"),
    "imports.option_profile": Entry(
        zh="字段方案“{value}”不在可选范围内（{known}）", en="--profile {value!r} is not one of {known}"),
    "imports.shared_batch_deadline": Entry(
        zh="批次“{batch}”由多个乡镇共用：其整改期限（{deadline}）由县级账号设定",
        en="batch {batch!r} is shared with other townships: its deadline ({deadline}) is set by a county account",
        hints={"cli": ("请不带 --deadline 导入", "import without --deadline"),
               "web": ("请不填整改期限再导入", "import it with the deadline left empty")}),
    "imports.imported_by": Entry(zh="由{user}", en=" by {user}"),
    "imports.duplicate_delivery": Entry(
        zh="{name}与{file}是同一份成果（内容SHA-256相同），已于{when}{who}作为批次“{batch}”（{source}）导入："
           "再以其他批次导入会重复统计其中的图斑",
        en="{name} is the same delivery (SHA-256 of its content) as {file}, imported on {when}{who} as batch "
           "{batch!r} ({source}): importing it again under another batch would count its patches twice",
        hints={"cli": ("如县局确实将其作为新批次再次下发，请加 --accept-duplicates 重新导入",
                       "if the bureau really issued it again as a new batch, rerun with --accept-duplicates"),
               "web": ("如县局确实将其作为新批次再次下发，请在核对页勾选“我已核对，上级确实重复下发，仍要导入”",
                       "if the bureau really issued it again as a new batch, tick the box that you have checked it on the review page")}),
    "imports.and_more": Entry(zh="，另有{count}个", en=" and {count} more"),
    "imports.outside_units": Entry(
        zh="{name}：{n}个图斑中有{count}个不在您的辖区内：{codes}{more}。未导入任何图斑：乡镇账号只能导入本乡镇"
           "所辖行政村的图斑；全县成果须由辖区覆盖全县的账号导入",
        en="{name}: {count} of {n} patches lie outside your units: {codes}{more}. Nothing was imported: an account "
           "of a township imports only its own villages' patches; a county-wide delivery is imported by an "
           "account whose units cover it"),
    "imports.problem_outside_units": Entry(
        zh="不在您的辖区内：请用县级账号导入", en="outside your units: import it with a county account"),
    "imports.nothing_importable": Entry(
        zh="{name}：{count}个要素均不能导入", en="{name}: none of its {count} features can be imported"),
    "imports.code_at_features": Entry(zh="{code}（第{features}个要素）", en="{code} (features {features})"),
    "imports.codes_repeated": Entry(
        zh="{name}：有{count}个图斑编号重复：{listed}。同一批次内图斑编号不得重复",
        en="{name}: {count} patch codes occur more than once: {listed}. Patch codes must be unique within a batch",
        hints={"cli": ("请向县局核实，或用 --id-field 改选编号字段，或加 --skip-invalid 重新导入编号不重复的要素",
                       "ask the bureau, choose another field with --id-field, or rerun with --skip-invalid to "
                       "import the features whose codes do not repeat"),
               "web": ("请县局更正图斑编号后重新下发", "ask the bureau to correct the patch codes and send them again")}),
    "imports.problem_duplicate_code": Entry(zh="图斑编号重复", en="duplicate patch code"),
    "imports.problem_code_repeated": Entry(
        zh="图斑编号{code}出现多次：凡使用该编号的要素均已跳过",
        en="patch code {code} occurs more than once: every feature with it is skipped"),
    "imports.feature_problem": Entry(zh="第{feature}个要素（{code}）：{problem}", en="feature {feature} ({code}): {problem}"),
    "imports.features_rejected": Entry(
        zh="{name}：{n}个要素中有{count}个不能导入：{shown}{more}。未导入任何图斑",
        en="{name}: {count} of {n} features cannot be imported: {shown}{more}. Nothing was imported",
        hints={"cli": ("请更正文件，或加 --skip-invalid 重新导入其余要素",
                       "fix the file, or rerun with --skip-invalid to import the rest"),
               "web": ("请更正文件后重新上传", "fix the file and upload it again")}),
    "imports.duplicate_item": Entry(
        zh="第{feature}个要素（{code}）即批次{batch}的{duplicate}", en="feature {feature} ({code}) = {duplicate} of {batch}"),
    "imports.patches_held": Entry(
        zh="{name}：有{count}个图斑已在其他批次中：{shown}{more}。未导入任何图斑：再次导入会重复统计同一地块",
        en="{name}: {count} patches are already held by other batches: {shown}{more}. Nothing was imported: "
           "importing them would count the same land twice",
        hints={"cli": ("如县局确实再次下发，请加 --accept-duplicates 重新导入",
                       "if the bureau really issued them again, rerun with --accept-duplicates"),
               "web": ("如县局确实再次下发，请在核对页勾选“我已核对，上级确实重复下发，仍要导入”",
                       "if the bureau really issued them again, tick the box that you have checked it on the review page")}),
    "imports.problem_duplicate_of": Entry(zh="与{code}（{batch}）重复", en="duplicate of {code} ({batch})"),
    "imports.problem_code_slash": Entry(
        zh="图斑编号“{code}”含有“/”，而“/”在引用中用于分隔批次和编号（批次/编号）",
        en="patch code {code!r} contains '/', which separates batch and code in references (BATCH/CODE)",
        hints={"cli": ("请向县局核实，或用 --id-field 改选编号字段", "ask the bureau, or choose another field with --id-field"),
               "web": ("请县局更正图斑编号", "ask the bureau to correct the patch code")}),
    "imports.flag_generated_code": Entry(
        zh="成果中没有图斑编号；已生成编号{code}", en="no patch code in the delivery; generated {code}"),
    "imports.flag_code_from_file": Entry(
        zh="地块号为占位值或在多个文件中重复；已取文件名作编号：{code}",
        en="地块号 is a placeholder or repeats across files; code taken from the file name: {code}"),
    "imports.flag_recheck": Entry(
        zh="本次重新下发改变了图形或下发面积：请重新核查", en="shape or issued area changed in this re-issue: verify it again"),
    "imports.flag_rectified_capped": Entry(
        zh="已记录的整改面积{done}亩超过重新下发的面积{area}亩；按{area}亩计",
        en="recorded rectification {done} 亩 exceeds the re-issued area {area} 亩; counted as {area} 亩"),
    "imports.flag_duplicate": Entry(
        zh="与批次{batch}的{code}为同一地块（双向重叠{share}）",
        en="same site as {code} of batch {batch} ({share} overlap both ways)"),
    "imports.flag_relapse": Entry(
        zh="与此前已整改或已销号的图斑{codes}重叠", en="overlaps earlier rectified/closed patch(es) {codes}"),
    "imports.flag_problem": Entry(zh="{label}：{text}", en="{label}: {text}"),
}

#: The label of each flag in a report's problems: the English is the flag's key, as stored.
_FLAG_LABELS = {
    "area_deviation": "面积偏差", "sliver": "碎片图斑", "cultivated_exceeds_area": "耕地面积超出图斑面积",
    "duplicate_vertices": "重复节点", "repaired": "图形已修复", "generated_code": "编号为生成",
    "code_from_file": "编号取自文件名", "recheck": "须重新核查", "rectified_capped": "整改面积已封顶",
    "duplicate": "重复图斑", "relapse": "疑似复发",
}
FLAG_LABELS: dict[str, Entry] = {f"imports.flag_label.{k}": Entry(zh=v, en=k) for k, v in _FLAG_LABELS.items()}

# --- batches, the 三调 layer and the demo's data ---------------------------------------------------
_BATCH_LIST = {"cli": ("用 `geo-tracker batches list` 查看批次", "`geo-tracker batches list` shows the batches"),
               "web": ("请在批次列表中查找", "look it up in the batch list")}
OTHERS: dict[str, Entry] = {
    "imports.batch_not_found": Entry(zh="没有名为“{name}”的批次", en="no batch named {name!r}", hints=_BATCH_LIST),
    "imports.batch_not_found_from": Entry(
        zh="没有来源为{source}、名为“{name}”的批次", en="no batch named {name!r} from {source}", hints=_BATCH_LIST),
    "imports.batch_several_sources": Entry(
        zh="批次“{name}”有多个来源（{sources}）", en="batch {name!r} exists for several sources ({sources})",
        hints={"cli": ("请加 --source 指定来源", "add --source"), "web": ("请选择图斑来源", "choose the source")}),
    "imports.landuse_no_dlbm": Entry(
        zh="{name}中没有DLBM（地类编码）字段：它是三调地类图斑（DLTB）图层吗？现有字段：{fields}",
        en="{name} has no DLBM (地类编码) field: is it a 三调 地类图斑 (DLTB) layer? Its fields are: {fields}"),
    "imports.feature_note": Entry(zh="第{feature}个要素：{problem}", en="feature {feature}: {problem}"),
    "imports.landuse_parcels_unusable": Entry(
        zh="{name}：有{count}个地块不能使用：{shown}", en="{name}: {count} parcels cannot be used: {shown}"),
    "imports.demo_data_missing": Entry(
        zh="演示所需的样例数据在{folder}中缺失（{files}）",
        en="the demo's sample data is missing from {folder} ({files})",
        hints={"cli": ("请在代码仓库的副本中运行演示，或用 scripts/make_sample_batches.py 重新生成",
                       "run the demo from a clone of the repository, or rebuild it with scripts/make_sample_batches.py"),
               "web": ("请联系系统管理员", "ask the system administrator")}),
}

MESSAGES: dict[str, Entry] = {**ARCHIVES, **FILES, **DATASETS, **ZUOBIAO, **FIELDS, **CRS, **CRS_NAMES, **DECISIONS,
                               **CHECKS, **GEOMETRY_WORDS, **BATCHES, **FLAG_LABELS, **OTHERS}
