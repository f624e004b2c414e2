// runner.cpp: the simulated Metal device's executable. kernels/metal builds
// it at run time with clang: this file includes shim.h, the project's
// .metal source, the generated kernel wrappers (wrappers.inc) and end.h,
// then serves the Go side over stdin/stdout. Buffers are files both sides
// map; the protocol is little-endian binary:
//
//	1 MAP      u32 id, u64 size, u32 n, path[n]
//	2 UNMAP    u32 id
//	3 DISPATCH u32 n, name[n], u32 groups[3], u32 threads[3], u32 nargs,
//	           nargs × (u32 index, u32 kind: 0 → u32 buffer, u64 offset;
//	                                       1 → u32 n, bytes[n])
//	4 SYNC     → u32 status (0 = ok), u32 n, message[n]
//	5 ALIAS    u32 id, u64 size, u64 file offset, u64 inode, u32 n, path[n]
//	           (maps size bytes of a file of the Go process read-only: the
//	           zero-copy view of a GGUF mapping; the inode guards against
//	           a file replaced since the Go side mapped it)
//
// Dispatches run in order as they arrive; the first error is kept and
// reported at the next SYNC (the end of a command buffer).
#include "shim.h"
#include KERNEL_SOURCE
#include "wrappers.inc"
#include "end.h"

#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

namespace {

struct Mapped {
	unsigned char *p;
	uint64_t size;
};
std::unordered_map<uint32_t, Mapped> buffers;
std::string firstError;

void readFull(void *dst, size_t n) {
	if (n && fread(dst, 1, n, stdin) != n)
		exit(0); // the Go side closed the pipe
}
uint32_t u32() {
	uint32_t v;
	readFull(&v, 4);
	return v;
}
uint64_t u64() {
	uint64_t v;
	readFull(&v, 8);
	return v;
}
void fail(const std::string &msg) {
	if (firstError.empty())
		firstError = msg;
}

void doMap() {
	uint32_t id = u32();
	uint64_t size = u64();
	std::string path(u32(), '\0');
	readFull(path.data(), path.size());
	int fd = open(path.c_str(), O_RDWR);
	if (fd < 0) {
		fail("map " + path + ": open failed");
		return;
	}
	void *p = mmap(nullptr, size ? size : 1, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fail("map " + path + ": mmap failed");
		return;
	}
	buffers[id] = Mapped{(unsigned char *)p, size};
}

void doAlias() {
	uint32_t id = u32();
	uint64_t size = u64(), off = u64(), inode = u64();
	std::string path(u32(), '\0');
	readFull(path.data(), path.size());
	int fd = open(path.c_str(), O_RDONLY);
	if (fd < 0) {
		fail("alias " + path + ": open failed");
		return;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_ino != inode) {
		close(fd);
		fail("alias " + path + ": not the file the Go process mapped (inode changed)");
		return;
	}
	void *p = mmap(nullptr, size ? size : 1, PROT_READ, MAP_SHARED, fd, (off_t)off);
	close(fd);
	if (p == MAP_FAILED) {
		fail("alias " + path + ": mmap failed");
		return;
	}
	buffers[id] = Mapped{(unsigned char *)p, size};
}

void doUnmap() {
	uint32_t id = u32();
	auto it = buffers.find(id);
	if (it != buffers.end()) {
		munmap(it->second.p, it->second.size ? it->second.size : 1);
		buffers.erase(it);
	}
}

void doDispatch() {
	std::string name(u32(), '\0');
	readFull(name.data(), name.size());
	uint3 groups = {u32(), u32(), u32()};
	uint3 threads = {u32(), u32(), u32()};
	uint32_t nargs = u32();
	void *args[32] = {};
	std::vector<std::vector<uint64_t>> inline_args; // 8-byte aligned copies
	bool ok = true;
	for (uint32_t i = 0; i < nargs; i++) {
		uint32_t index = u32(), kind = u32();
		void *p = nullptr;
		if (kind == 0) {
			uint32_t id = u32();
			uint64_t off = u64();
			auto it = buffers.find(id);
			if (it == buffers.end() || off > it->second.size) {
				fail(name + ": argument " + std::to_string(index) + ": unknown buffer or offset out of range");
				ok = false;
			} else {
				p = it->second.p + off;
			}
		} else {
			uint32_t n = u32();
			inline_args.emplace_back((n + 7) / 8 + 1);
			readFull(inline_args.back().data(), n);
			p = inline_args.back().data();
		}
		if (index >= 32) {
			fail(name + ": argument index out of range");
			ok = false;
		} else {
			args[index] = p;
		}
	}
	if (!ok || !firstError.empty())
		return;
	shimrt::Entry fn = nullptr;
	for (const KernelEntry &k : kKernels)
		if (name == k.name)
			fn = k.fn;
	if (!fn) {
		fail("no kernel named " + name);
		return;
	}
	for (uint z = 0; z < groups.z; z++)
		for (uint y = 0; y < groups.y; y++)
			for (uint x = 0; x < groups.x; x++) {
				const char *err = shimrt::run_threadgroup(fn, args, uint3{x, y, z}, threads, groups);
				if (err) {
					fail(name + ": " + err);
					return;
				}
			}
}

void doSync() {
	uint32_t status = firstError.empty() ? 0 : 1, n = firstError.size();
	fwrite(&status, 4, 1, stdout);
	fwrite(&n, 4, 1, stdout);
	fwrite(firstError.data(), 1, n, stdout);
	fflush(stdout);
	firstError.clear();
}

} // namespace

int main() {
	for (;;) {
		uint32_t op;
		if (fread(&op, 4, 1, stdin) != 1)
			return 0;
		switch (op) {
		case 1:
			doMap();
			break;
		case 2:
			doUnmap();
			break;
		case 3:
			doDispatch();
			break;
		case 4:
			doSync();
			break;
		case 5:
			doAlias();
			break;
		default:
			fprintf(stderr, "metal-sim runner: unknown op %u\n", op);
			return 2;
		}
	}
}
