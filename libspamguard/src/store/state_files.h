// The files the state is kept in (the database and the files beside it):
// whose they are, and whether this process may trust and share them.
#pragma once

#include <sys/stat.h>

#include <string>

namespace spamguard::store {

// The folder a path names its file in.
std::string FolderOf(const std::string& path);

// "uid U, gid G, mode 0600; this process is uid P": whose a file is, for
// messages that refuse it.
std::string Ownership(const struct stat& st);

// Why the existing file at `path` (lst: its lstat) may not be used as this
// user's state, "" when it may: a symbolic link never; with check_owner
// (SqliteOptions::check_owner), a file writable by others than its owner,
// or owned by another user (root excepted) -- unless it sits in a
// set-group-ID folder of its own group that others cannot write.
std::string Refusal(const std::string& path, const struct stat& lst, bool check_owner);

// Whether a file made at `path` is shared with its folder's group: the
// folder has the set-group-ID bit (how an admin shares the state with the
// web server's group), so the file is made 0660 instead of 0600.
bool InSharedFolder(const std::string& path);

}  // namespace spamguard::store
