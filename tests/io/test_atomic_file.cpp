// Atomic replacement: the target is the old file until commit() and the new one after; an
// abandoned writer leaves nothing; a dead writer's temporary file is removed by the next one,
// a live writer's never.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <fstream>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/io/atomic_file.hpp"
#include "io/test_support.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

using embedkit::IoError;
using embedkit::io::AtomicFile;
using embedkit_io_test::message_of;
using embedkit_test::read_file;
using embedkit_test::TempDir;
using embedkit_test::write_file;

void save(const std::filesystem::path& p, const std::string& text) {
  embedkit::io::write_file_atomically(p, text.data(), text.size());
}

TEST(AtomicFile, CommitReplacesTheTarget) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  save(target, "first");
  EXPECT_EQ(read_file(target), "first");
  save(target, "second, longer");
  EXPECT_EQ(read_file(target), "second, longer");
  EXPECT_EQ(dir.names(), std::vector<std::string>({"ckpt.bin"}));
}

TEST(AtomicFile, TheTargetIsTheOldFileUntilCommit) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  save(target, "old");
  {
    AtomicFile file(target);
    EXPECT_TRUE(embedkit::io::is_atomic_temp_file_of(file.temp_path(), target));
    EXPECT_EQ(file.temp_path().parent_path(), target.parent_path());
    file.write("new", 3);
    EXPECT_EQ(read_file(target), "old");
    EXPECT_EQ(read_file(file.temp_path()), "new");
    file.commit();
    EXPECT_FALSE(std::filesystem::exists(file.temp_path()));
  }
  EXPECT_EQ(read_file(target), "new");
}

TEST(AtomicFile, AbandonedWriterLeavesNothing) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  save(target, "old");
  try {
    AtomicFile file(target);
    file.write("partial", 7);
    throw std::runtime_error("the caller fails mid-save");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(target), "old");
  EXPECT_EQ(dir.names(), std::vector<std::string>({"ckpt.bin"}));

  AtomicFile discarded(dir / "fresh.bin");
  discarded.write("x", 1);
  discarded.discard();
  EXPECT_FALSE(std::filesystem::exists(dir / "fresh.bin"));
  EXPECT_THROW(discarded.write("x", 1), embedkit::ValueError);
  EXPECT_THROW(discarded.commit(), embedkit::ValueError);
  EXPECT_EQ(dir.names(), std::vector<std::string>({"ckpt.bin"}));
}

TEST(AtomicFile, Permissions) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  const mode_t old_umask = ::umask(027);
  save(target, "new file");
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);  // 0666 minus the umask, as open() gives

  ASSERT_EQ(::chmod(target.c_str(), 0604), 0);
  save(target, "replacement");
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0604u);  // the replaced file's permissions are kept
}

// A rename would put a regular file in the place of a link, a FIFO or a device (before the
// fix, a FIFO a program was reading became a regular file, and a link was replaced while the
// file it points to kept its old contents): such outputs are refused, and left as they were.
TEST(AtomicFile, NonRegularTargetsAreRefused) {
  TempDir dir;
  const auto real = dir / "real.bin";
  const auto link = dir / "link.bin";
  write_file(real, "real");
  std::filesystem::create_symlink(real, link);
  std::string m = message_of<IoError>([&] { save(link, "via link"); });
  EXPECT_EQ(m.rfind(link.string() + ": is a symbolic link to " + real.string() + ": ", 0), 0u) << m;
  EXPECT_CONTAINS(m, "write to that file's path, or remove the link");
  EXPECT_EQ(read_file(real), "real");
  EXPECT_TRUE(std::filesystem::is_symlink(link));

  const auto dangling = dir / "dangling.bin";
  std::filesystem::create_symlink(dir / "nowhere", dangling);
  m = message_of<IoError>([&] { save(dangling, "x"); });
  EXPECT_CONTAINS(m, dangling.string() + ": is a symbolic link");
  EXPECT_FALSE(std::filesystem::exists(dir / "nowhere"));

  const auto fifo = dir / "fifo.bin";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  m = message_of<IoError>([&] { save(fifo, "x"); });
  EXPECT_EQ(
      m.rfind(fifo.string() + ": is a FIFO (named pipe): an output must be a regular file", 0), 0u)
      << m;
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));

  const auto sub = dir / "sub";
  std::filesystem::create_directory(sub);
  EXPECT_CONTAINS(message_of<IoError>([&] { save(sub, "x"); }), sub.string() + ": is a directory");
  EXPECT_TRUE(std::filesystem::is_directory(sub));

  if (std::filesystem::exists("/dev/null")) {
    // Refused before anything is made in /dev.
    EXPECT_CONTAINS(message_of<IoError>([&] { AtomicFile f("/dev/null"); }),
                    "/dev/null: is a character device");
  }
  EXPECT_EQ(dir.names(),
            std::vector<std::string>({"dangling.bin", "fifo.bin", "link.bin", "real.bin", "sub"}));

  // A regular file, and a path that does not exist yet, are fine.
  save(real, "new");
  save(dir / "fresh.bin", "fresh");
  EXPECT_EQ(read_file(real), "new");
  EXPECT_EQ(read_file(dir / "fresh.bin"), "fresh");
}

// The target is checked again right before the rename: it may have changed since.
TEST(AtomicFile, ATargetThatBecameAFifoMeanwhileIsRefusedAtCommit) {
  TempDir dir;
  const auto target = dir / "out.bin";
  AtomicFile file(target);
  file.write("data", 4);
  ASSERT_EQ(::mkfifo(target.c_str(), 0600), 0);
  const std::string m = message_of<IoError>([&] { file.commit(); });
  EXPECT_CONTAINS(m, target.string() + ": is a FIFO (named pipe)");
  EXPECT_TRUE(std::filesystem::is_fifo(target));
  EXPECT_EQ(dir.names(), std::vector<std::string>({"out.bin"}));
}

TEST(AtomicFile, CommitTogether) {
  TempDir dir;
  write_file(dir / "a.bin", "old a");
  {
    AtomicFile a(dir / "a.bin");
    AtomicFile b(dir / "b.bin");
    a.write("new a", 5);
    b.write("new b", 5);
    embedkit::io::commit_together({&a, &b});
  }
  EXPECT_EQ(read_file(dir / "a.bin"), "new a");
  EXPECT_EQ(read_file(dir / "b.bin"), "new b");

  // Misuse changes nothing and leaves no temporary file.
  std::filesystem::create_directory(dir / "sub");
  {
    AtomicFile a(dir / "a.bin");
    AtomicFile c(dir / "sub" / "c.bin");
    EXPECT_THROW(embedkit::io::commit_together({&a, &c}), embedkit::ValueError);
  }
  {
    AtomicFile a1(dir / "a.bin");
    AtomicFile a2(dir / "a.bin");
    EXPECT_THROW(embedkit::io::commit_together({&a1, &a2}), embedkit::ValueError);
  }
  // One member that cannot be renamed (here: it became a FIFO) stops the group before any
  // rename.
  {
    AtomicFile a(dir / "a.bin");
    AtomicFile d(dir / "d.bin");
    a.write("newer a", 7);
    ASSERT_EQ(::mkfifo((dir / "d.bin").c_str(), 0600), 0);
    EXPECT_CONTAINS(message_of<IoError>([&] {
                      embedkit::io::commit_together({&a, &d});
                    }),
                    "d.bin: is a FIFO");
  }
  EXPECT_EQ(read_file(dir / "a.bin"), "new a");
  EXPECT_EQ(dir.names(), std::vector<std::string>({"a.bin", "b.bin", "d.bin", "sub"}));
}

TEST(AtomicFile, TempFileNames) {
  const std::filesystem::path target = "dir/ckpt.safetensors";
  EXPECT_EQ(embedkit::io::atomic_temp_prefix(target), ".ckpt.safetensors.embedkit-tmp-");
  EXPECT_TRUE(embedkit::io::is_atomic_temp_file_of(
      "dir/.ckpt.safetensors.embedkit-tmp-0123456789ab", target));
  for (const char* other : {".ckpt.safetensors.embedkit-tmp-0123456789a",    // short
                            ".ckpt.safetensors.embedkit-tmp-0123456789abc",  // long
                            ".ckpt.safetensors.embedkit-tmp-0123456789aB",   // not lowercase hex
                            ".ckpt.safetensors.embedkit-tmp-0123456789a/",
                            ".other.safetensors.embedkit-tmp-0123456789ab",  // another target
                            "ckpt.safetensors", "ckpt.safetensors.bak"}) {
    EXPECT_FALSE(embedkit::io::is_atomic_temp_file_of(other, target)) << other;
  }
}

TEST(AtomicFile, StaleTempFilesAreRemovedByTheNextWriter) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  save(target, "v1");
  // What a writer killed mid-save leaves: a temporary file that nobody locks.
  const auto stale = dir / ".ckpt.bin.embedkit-tmp-00000000beef";
  write_file(stale, "half a checkpoint");
  // Files that only look similar are not touched.
  write_file(dir / "ckpt.bin.bak", "backup");
  write_file(dir / ".ckpt.bin.embedkit-tmp-notmine", "user file");
  write_file(dir / ".other.bin.embedkit-tmp-00000000beef", "another target's");
  save(target, "v2");
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_EQ(read_file(target), "v2");
  EXPECT_EQ(dir.names(), std::vector<std::string>({".ckpt.bin.embedkit-tmp-notmine",
                                                   ".other.bin.embedkit-tmp-00000000beef",
                                                   "ckpt.bin", "ckpt.bin.bak"}));
  write_file(stale, "again");
  EXPECT_EQ(embedkit::io::remove_stale_temp_files(target), 1u);
  EXPECT_EQ(embedkit::io::remove_stale_temp_files(target), 0u);
}

TEST(AtomicFile, ALiveWritersTempFileIsNeverRemoved) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  // A live writer holds the lock: here another open file description in this process, which
  // conflicts with the cleaner's as another process's would.
  const auto busy = dir / ".ckpt.bin.embedkit-tmp-0000000000aa";
  write_file(busy, "being written");
  const int fd = ::open(busy.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  EXPECT_EQ(embedkit::io::remove_stale_temp_files(target), 0u);
  save(target, "other writer");
  EXPECT_TRUE(std::filesystem::exists(busy));
  ::close(fd);  // the writer dies: its lock goes with it
  EXPECT_EQ(embedkit::io::remove_stale_temp_files(target), 1u);
  EXPECT_FALSE(std::filesystem::exists(busy));
}

TEST(AtomicFile, ConcurrentWritersOfOneTarget) {
  TempDir dir;
  const auto target = dir / "ckpt.bin";
  AtomicFile a(target);
  a.write("from a", 6);
  AtomicFile b(target);  // its cleanup must leave a's file alone
  b.write("from b", 6);
  EXPECT_TRUE(std::filesystem::exists(a.temp_path()));
  a.commit();
  EXPECT_EQ(read_file(target), "from a");
  b.commit();
  EXPECT_EQ(read_file(target), "from b");
  EXPECT_EQ(dir.names(), std::vector<std::string>({"ckpt.bin"}));
}

TEST(AtomicFile, Errors) {
  TempDir dir;
  std::string m = message_of<IoError>([&] { AtomicFile f(dir / "missing/dir/ckpt.bin"); });
  EXPECT_CONTAINS(m, "missing/dir/ckpt.bin: cannot create temporary file");
  EXPECT_CONTAINS(m, "No such file or directory");
  m = message_of<IoError>([&] { AtomicFile f(dir.path() / ""); });
  EXPECT_CONTAINS(m, "not a file path");
  // A directory is not replaced; it is left as it was.
  std::filesystem::create_directory(dir / "taken");
  write_file(dir / "taken" / "inside", "x");
  m = message_of<IoError>([&] { save(dir / "taken", "data"); });
  EXPECT_CONTAINS(m, "taken: is a directory");
  EXPECT_TRUE(std::filesystem::is_directory(dir / "taken"));
  EXPECT_EQ(dir.names(), std::vector<std::string>({"taken"}));
}

TEST(AtomicFile, ErrorsCarryTheFailedCallsErrno) {
  // Python raises the OSError subclass of the errno; without it a write error on a new output
  // path (a full disk, a read-only directory) was taken for a missing file.
  TempDir dir;
  try {
    AtomicFile f(dir / "missing/dir/out.bin");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_EQ(e.error_number(), ENOENT);
  }
  // A write beyond the file-size limit fails with EFBIG (SIGXFSZ ignored); in a child, so that
  // the limit stays there.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{1024, 1024};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 1;
    try {
      AtomicFile f(dir / "big.bin");
      const std::string data(4096, 'x');
      f.write(data.data(), data.size());
    } catch (const IoError& e) {
      code = e.error_number() == EFBIG ? 0 : 2;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: no error, 2: another errno";
  EXPECT_TRUE(dir.names().empty());
  // An error that is no system call's carries none.
  try {
    AtomicFile f(dir.path() / "");
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_EQ(e.error_number(), 0);
  }
}

}  // namespace
