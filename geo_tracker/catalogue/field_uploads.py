"""Messages of the field app's resumable photo uploads (services/field_uploads.py)."""

from . import Entry

_START_AGAIN = {"any": ("请重新开始上传这张照片", "start the upload of this photo again"),
                "api": ("请先用 `POST /api/v1/field/uploads` 开始上传", "POST /api/v1/field/uploads first")}

MESSAGES: dict[str, Entry] = {
    "field.bad_sha256": Entry(
        zh="照片{file}的SHA-256“{sha}”无效（应为64位十六进制数字）",
        en="photo {file}: SHA-256 {sha!r} is not 64 hexadecimal digits"),
    "field.not_sha256": Entry(
        zh="“{sha}”不是照片的SHA-256（应为64位十六进制数字）", en="{sha!r} is not a photo's SHA-256 (64 hexadecimal digits)"),
    "field.bad_size": Entry(
        zh="照片{file}的大小{size}字节无效：应大于0且不超过{limit:.0f} MB",
        en="photo {file}: a size of {size} bytes is not above 0 and at most {limit:.0f} MB"),
    "field.chunk_too_large": Entry(
        zh="一次上传的分段超过了{limit:.0f} MB", en="the chunk is larger than {limit:.0f} MB",
        hints={"any": ("请把照片分成更小的分段上传", "send the photo in smaller chunks")}),
    "field.no_upload": Entry(
        zh="没有正在上传的照片{sha}（可能已过期）", en="no upload in progress for photo {sha} (it may have expired)",
        hints=_START_AGAIN),
    "field.wrong_offset": Entry(
        zh="照片{file}的分段从第{offset}字节开始，但服务器已收到{received}字节",
        en="photo {file}: the chunk starts at byte {offset}, but {received} bytes have arrived",
        hints={"any": ("请从第{received}字节继续上传", "resume from byte {received}"),
               "api": ("请用 `offset={received}` 继续上传", "resume with offset={received}")}),
    "field.past_size": Entry(
        zh="照片{file}的分段到第{end}字节，超过了照片的大小{size}字节",
        en="photo {file}: the chunk ends at byte {end}, past the photo's size of {size} bytes"),
    "field.hash_mismatch": Entry(
        zh="照片{file}收到的内容与其SHA-256不符，已丢弃", en="photo {file}: what arrived does not match its SHA-256 "
        "and was dropped", hints={"any": ("请重新上传整张照片", "send the whole photo again")}),
    "field.upload_elsewhere": Entry(
        zh="照片{file}正由另一个账号上传", en="photo {file} is being uploaded by another account",
        hints={"any": ("请稍后再试", "try again later")}),
}
