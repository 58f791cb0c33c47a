"""Messages of the service and the tools around it: request values, uploads, OGC API, tiles,
report and export formats, the map builder and command-line usage. key -> Entry (zh, en, hints by interface)."""

from . import Entry

MESSAGES: dict[str, Entry] = {
    # --- request values (server/deps.py) --------------------------------------------------
    "service.drawn_not_geojson": Entry(zh="所画的整改范围不是GeoJSON", en="the drawn part is not GeoJSON"),
    "service.drawn_not_geometry": Entry(zh="所画的整改范围不是GeoJSON几何图形", en="the drawn part is not a GeoJSON geometry"),
    # --- uploads (server/uploads.py) -----------------------------------------------------
    "upload.too_large": Entry(
        zh="上传的文件超过了{limit:.0f} MB的上限", en="the upload is larger than the limit of {limit:.0f} MB",
        hints={"any": ("请拆分数据后分别上传，或请管理员调高上限（设置项 max_upload_mb）",
                       "split the delivery or ask the administrator to raise it (setting max_upload_mb)"),
               "web": ("请把数据拆分后分别上传，或请管理员调高上限",
                       "split the delivery or ask the administrator to raise the limit")}),
    "upload.empty": Entry(zh="上传的文件“{file}”是空的", en="the uploaded file {file!r} is empty"),
    "upload.none_chosen": Entry(zh="请选择上级下发的文件（zip、gpkg、shp一套、kml、坐标txt）",
                                en="choose the file the bureau sent (zip, gpkg, shp set, kml, txt)"),
    "upload.which_dataset": Entry(
        zh="无法判断上传的文件（{names}）中哪个是数据：请上传一个zip压缩包，或一个.shp及其.dbf、.shx、.prj、.cpg",
        en="cannot tell which of the uploaded files ({names}) is the dataset: upload one zip, "
           "or one .shp with its .dbf, .shx, .prj and .cpg"),
    "upload.staging_not_private": Entry(
        zh="暂存文件夹{root}不是本服务专用的（所有者、权限700）", en="staging folder {root} is not private to this service "
        "(owner, mode 700)", hints={"any": ("请删除该文件夹，或设置 upload_dir", "remove it or set upload_dir"),
                                    "web": ("请管理员检查暂存文件夹的设置", "ask the administrator to check it")}),
    "upload.no_staged": Entry(zh="没有这次待确认的导入", en="no such staged import",
                              hints={"web": ("请重新上传文件", "upload the file again")}),
    "upload.evidence_type": Entry(
        zh="举证材料{file}的内容不是JPEG、PNG、PDF或HEIC（不看文件扩展名）",
        en="evidence file {file}: its content is not JPEG, PNG, PDF or HEIC (the name's suffix does not count)",
        hints={"any": ("请上传照片或扫描件本身", "send the photo or scan itself")}),
    # --- OGC API (server/ogc/) ----------------------------------------------------------
    "ogc.bad_crs": Entry(zh="不提供坐标系“{crs}”：请用 {crs84} 或 {cgcs2000}",
                         en="crs {crs!r} is not offered: use {crs84} or {cgcs2000}"),
    "ogc.bad_datetime": Entry(zh="datetime 参数“{value}”不是RFC 3339日期或时间段",
                              en="datetime {value!r} is not an RFC 3339 date or interval"),
    "ogc.bbox_not_numbers": Entry(zh="bbox 参数“{value}”不是四个数", en="bbox {value!r} is not four numbers"),
    "ogc.bbox_shape": Entry(zh="bbox 参数“{value}”应为 minx,miny,maxx,maxy", en="bbox {value!r} must be minx,miny,maxx,maxy"),
    "ogc.no_collection": Entry(zh="没有图层“{collection}”", en="no collection {collection!r}",
                               hints={"any": ("/ogc/collections 列出全部图层", "/ogc/collections lists them")}),
    "ogc.no_collection_named": Entry(zh="没有图层“{collection}”：可用图层为{collections}",
                                     en="no collection {collection!r}: the collections are {collections}"),
    "ogc.no_feature": Entry(zh="图层“{collection}”中没有要素{fid}", en="no feature {fid} in collection {collection!r}"),
    "ogc.no_filter": Entry(zh="图层“{collection}”不支持 filter 和 sortby 参数",
                           en="collection {collection!r} takes no filter or sortby",
                           hints={"any": ("图斑图层（patches 及各批次）支持", "the patch collections (patches, batch-…) do")}),
    # --- files out (server/api/figures.py), tiles, maps ------------------------------------
    "service.bad_report_format": Entry(zh="报告格式“{format}”无效，应为：{choices}",
                                       en="format {format!r} is not one of {choices}"),
    "service.bad_export_format": Entry(zh="导出格式“{format}”无效，应为：{choices}",
                                       en="export format {format!r} is not one of {choices}"),
    "tiles.no_tile": Entry(zh="瓦片{z}/{x}/{y}不存在（缩放级别0至{max_zoom}，x、y小于2的缩放级别次方）",
                           en="tile {z}/{x}/{y} does not exist (zoom 0–{max_zoom}, x and y below 2^zoom)"),
    "maps.tianditu_key": Entry(zh="天地图底图需要天地图密钥（--tianditu-key）",
                               en="--basemap tianditu needs --tianditu-key (a 天地图 key)"),
    "maps.bad_basemap": Entry(
        zh="底图“{basemap}”无效：请用 none、osm、tianditu，或含 {{z}}/{{x}}/{{y}} 的瓦片地址模板",
        en="--basemap {basemap!r}: use none, osm, tianditu or a URL template with {{z}}/{{x}}/{{y}}"),
    # --- command-line usage (cli/) --------------------------------------------------------
    "cli.workers_need_postgis": Entry(zh="--workers 大于1时需要PostGIS：SpatiaLite文件只能有一个写入者",
                                      en="--workers above 1 needs PostGIS: a SpatiaLite file has one writer"),
    "cli.verify_either": Entry(zh="请给出 REF --result --on，或 --from FILE，不能同时给出",
                               en="give either REF --result --on, or --from FILE"),
    "cli.verify_needs": Entry(zh="需要 REF、--result 和 --on（或 --from FILE）",
                              en="REF, --result and --on are required (or --from FILE)"),
}
