#include "store/state_files.h"

#include <unistd.h>

#include <cstdio>

namespace spamguard::store {

std::string FolderOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

std::string Ownership(const struct stat& st) {
  char mode[8];
  snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 07777));
  return "uid " + std::to_string(st.st_uid) + ", gid " + std::to_string(st.st_gid) + ", mode " + mode +
         "; this process is uid " + std::to_string(geteuid());
}

std::string Refusal(const std::string& path, const struct stat& st, bool check_owner) {
  if (S_ISLNK(st.st_mode))
    return "is a symbolic link; give the path of the file itself (spamguard does not follow links to its database)";
  if (!check_owner) return "";
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  struct stat dir;
  bool shared = ::stat(FolderOf(path).c_str(), &dir) == 0 && (dir.st_mode & S_ISGID) && !(dir.st_mode & S_IWOTH) &&
                dir.st_gid == st.st_gid;
  std::string who = " (" + Ownership(st) + ")";
  if (st.st_mode & S_IWOTH) return "is writable by every user" + who + "; chmod o-w it";
  if (st.st_uid != geteuid() && st.st_uid != 0 && !shared)
    return "belongs to another user" + who +
           "; a file another user made could say anything (set database_check_owner 0 to use it anyway)";
  if ((st.st_mode & S_IWGRP) && !shared)
    return "is writable by its group outside a set-group-ID folder of that group" + who + "; chmod g-w it";
  return "";
}

bool InSharedFolder(const std::string& path) {
  struct stat dir;
  return ::stat(FolderOf(path).c_str(), &dir) == 0 && (dir.st_mode & S_ISGID);
}

}  // namespace spamguard::store
