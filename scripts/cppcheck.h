/*
 * What cppcheck needs to read libbpf/libxdp option macros: plain
 * declarations of the same variable (it does not read system headers).
 */
#define LIBBPF_OPTS(TYPE, NAME, ...) struct TYPE NAME = {0}
#define DECLARE_LIBBPF_OPTS	     LIBBPF_OPTS
#define DECLARE_LIBXDP_OPTS	     LIBBPF_OPTS
#define bpf_object__for_each_map(pos, obj)                                     \
	for ((pos) = bpf_object__next_map((obj), NULL); (pos);                 \
	     (pos) = bpf_object__next_map((obj), (pos)))
