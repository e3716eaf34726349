// A temporary directory removed when the object goes.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace spicetap::test {

class TempDir {
public:
    TempDir() {
        std::error_code ec;
        std::string templ = (std::filesystem::temp_directory_path(ec) / "spicetap-test-XXXXXX").string();
        if (::mkdtemp(templ.data()) != nullptr) {
            path_ = templ;
        }
    }
    ~TempDir() {
        std::error_code ec;
        if (!path_.empty() && std::getenv("SPICETAP_KEEP_TEST_FILES") == nullptr) {
            std::filesystem::remove_all(path_, ec);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

}  // namespace spicetap::test
