// The file driver of every HDF5 file we write: POSIX pread/pwrite like HDF5's
// own sec2 driver, except after a failed write. Private to src/io.
//
// Why: with sec2, a write that fails (a full disk, the file size limit)
// leaves dirty metadata that H5Fclose tries to flush again; that H5Fclose
// fails half-way, and HDF5 1.10 then crashes in the next H5Fclose of the id
// or in its own clean-up at exit (SIGSEGV in H5F__close). This driver reports
// the first failed write (HDF5's call fails with the errno's words) and then
// discards every later write of that file, and while the file is closing it
// reports none: H5Fclose always completes, the writer removes the file, and
// the process stays sound. write_failure() says whether a file's bytes are
// all on disk; a writer must ask it before renaming the file into place.
#pragma once

#include <hdf5.h>

#include <string>

namespace tc::io {

/// The driver's id, registered once; set it with H5Pset_driver(fapl, id, nullptr).
hid_t failsafe_driver();

/// "No space left on device" (with the errno's name) when a write to the
/// file opened as `name` failed since it was opened; "" when none did.
std::string write_failure(const std::string& name);

/// Before H5Fclose of `name`: failures from now on are recorded but not
/// reported to HDF5 (see above).
void begin_close(const std::string& name);

/// After H5Fclose of `name`: forgets its record.
void forget_file(const std::string& name);

}  // namespace tc::io
