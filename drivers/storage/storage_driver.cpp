#include "drivers/storage/storage_driver.hpp"

namespace exhibit::storage {

drivers::Function block_function() {
    return {"block:storage"};
}

}  // namespace exhibit::storage
