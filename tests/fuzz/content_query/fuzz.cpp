// `content query` output (nothing in it is escaped) and `getprop` output, as a phone's shell
// prints them. The input's first line is the projection ("a:b:c", at most 16 columns), the
// rest the output; the same output is read as getprop's.
#include <cstdint>
#include <string>
#include <vector>

#include "drivers/adb/adb_extractor.hpp"
#include "drivers/adb/content_query.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    fuzz::Input projection = [&] {
        auto line = in.until("\n");
        return fuzz::Input(reinterpret_cast<const std::uint8_t*>(line.data()), line.size());
    }();
    std::vector<std::string> columns;
    while (!projection.empty() && columns.size() < 16)
        columns.emplace_back(projection.until(":"));
    const auto output = in.rest();
    (void)adb::parse_content_query(output, columns);
    (void)adb::parse_getprop(output);
    return 0;
}
