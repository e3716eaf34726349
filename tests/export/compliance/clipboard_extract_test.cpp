#include <spice/vd_agent.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "export/compliance/clipboard_content.h"
#include "export/compliance/extract.h"
#include "tests/support/temp_dir.h"

using namespace spicetap;
using namespace spicetap::compliance;

namespace {

ByteView view(const std::string& s) {
    return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

}  // namespace

TEST_CASE("sender-chosen file names are made safe to create", "[extract]") {
    CHECK(safe_file_name("report.pdf") == "report.pdf");
    CHECK(safe_file_name("../../etc/passwd") == "passwd");
    CHECK(safe_file_name("C:\\Users\\me\\notes.txt") == "notes.txt");
    CHECK(safe_file_name("..") == "__");
    CHECK(safe_file_name(".bashrc") == "_bashrc");
    CHECK(safe_file_name("a\nb<c>|d?.txt") == "a_b_c__d_.txt");
    CHECK(safe_file_name("") == "unnamed");
    CHECK(safe_file_name("dir/") == "unnamed");
    CHECK(safe_file_name("trailing. ") == "trailing");
    CHECK(safe_file_name("Grüße.txt") == "Grüße.txt");
    // é straddles byte 180. (Built by append: GCC 12's -Warray-bounds misfires on
    // std::string(n, c) + "literal" at -O2.)
    std::string long_name(179, 'a');
    long_name += "é";
    CHECK(safe_file_name(long_name) == std::string(179, 'a'));
}

TEST_CASE("clipboard text previews are escaped and cut by characters", "[extract]") {
    CHECK(text_preview(view("hi\n\"there\""), 60) == "\"hi\\n\\\"there\\\"\"");
    CHECK(text_preview(view(std::string("abc\0", 4)), 60) == "\"abc\"");
    CHECK(text_preview(view("ééééé"), 3) == "\"ééé...\"");
}

TEST_CASE("clipboard payloads are saved by type", "[extract]") {
    test::TempDir dir;
    auto t =
        save_clipboard(VD_AGENT_CLIPBOARD_UTF8_TEXT, view(std::string("copy me\0", 8)), dir / "c1");
    REQUIRE(t);
    CHECK(t->path.filename() == "c1.txt");
    CHECK(read_file(t->path) == "copy me");
    CHECK(t->note == "trailing NUL dropped");

    auto l = save_clipboard(VD_AGENT_CLIPBOARD_FILE_LIST, view(std::string("copy\0/a/b\0/c", 13)),
                            dir / "c2");
    REQUIRE(l);
    CHECK(read_file(l->path) == "copy\n/a/b\n/c\n");

    auto j = save_clipboard(VD_AGENT_CLIPBOARD_IMAGE_JPG, view("\xff\xd8junk"), dir / "c3");
    REQUIRE(j);
    CHECK(j->path.filename() == "c3.jpg");

    auto bad = save_clipboard(VD_AGENT_CLIPBOARD_IMAGE_BMP, view("BMnot really"), dir / "c4");
    REQUIRE(bad);
    CHECK(bad->path.filename() == "c4.bmp");
    CHECK(bad->note.find("BMP kept as sent") == 0);

    CHECK_FALSE(save_clipboard(VD_AGENT_CLIPBOARD_UTF8_TEXT, view("x"), "/proc/version/x"));
}
