// ---- GpuDeconv prelude ----
#if defined(__OPENCL_VERSION__)
#pragma OPENCL FP_CONTRACT OFF
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#define GD_HAS_FP64 1
#endif
#ifdef cl_khr_int64_base_atomics
#pragma OPENCL EXTENSION cl_khr_int64_base_atomics : enable
#define GD_HAS_I64_ATOMICS 1
#endif
#ifdef cl_khr_int64_extended_atomics
#pragma OPENCL EXTENSION cl_khr_int64_extended_atomics : enable
#define GD_HAS_I64_EXT_ATOMICS 1
#endif
typedef char sbyte;
typedef long GD_I64;
#define GD_FUNC static inline
#define GD_GLOBAL __global
#define GD_LOCAL __local
#define GD_PRIVATE __private
#define GD_F32_BITS(x) as_int(x)
#define GD_F32_UBITS(x) as_uint(x)
#define GD_BITS_F32(x) as_float(x)
#define GD_F64_BITS(x) as_long(x)
#define GD_F64_UBITS(x) as_ulong(x)
#define GD_BITS_F64(x) as_double(x)
#define GD_NAN_F as_float(0x7fc00000u)
#define GD_INF_F as_float(0x7f800000u)
#define GD_NAN as_double(0x7ff8000000000000UL)
#define GD_INF as_double(0x7ff0000000000000UL)
#define GD_GROUP_IDX_X ((int)get_local_id(0))
#define GD_GROUP_IDX_Y ((int)get_local_id(1))
#define GD_GROUP_IDX_Z ((int)get_local_id(2))
#define GD_GROUP_DIM_X ((int)get_local_size(0))
#define GD_GROUP_DIM_Y ((int)get_local_size(1))
#define GD_GROUP_DIM_Z ((int)get_local_size(2))
#define GD_GRID_IDX_X ((int)get_group_id(0))
#define GD_GRID_IDX_Y ((int)get_group_id(1))
#define GD_GRID_IDX_Z ((int)get_group_id(2))
#define GD_GRID_DIM_X ((int)get_num_groups(0))
#define GD_GRID_DIM_Y ((int)get_num_groups(1))
#define GD_GRID_DIM_Z ((int)get_num_groups(2))
#define GD_GLOBAL_LINEAR_ID ((long)get_global_id(0))
#define GD_GLOBAL_STRIDE ((long)get_global_size(0))
#define GD_BARRIER() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
#define GD_FENCE_GROUP() mem_fence(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
#define GD_FENCE_DEVICE() mem_fence(CLK_GLOBAL_MEM_FENCE)
#define GD_FENCE_SYSTEM() mem_fence(CLK_GLOBAL_MEM_FENCE)
#define GD_F2I32(x) convert_int_sat(x)
#define GD_F2U32(x) convert_uint_sat(x)
#define GD_F2I64(x) convert_long_sat(x)
#define GD_F2U64(x) convert_ulong_sat(x)
#define GD_RSQRT_F(x) rsqrt(x)
#define GD_RSQRT(x) rsqrt(x)
#elif defined(__CUDACC_RTC__) || defined(__CUDACC__)
typedef signed char sbyte;
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned int uint;
typedef unsigned long long ulong;
typedef long long GD_I64;
#define GD_HAS_FP64 1
#define GD_HAS_I64_ATOMICS 1
#define GD_HAS_I64_EXT_ATOMICS 1
#define GD_FUNC static __device__ __forceinline__
#define GD_GLOBAL
#define GD_LOCAL
#define GD_PRIVATE
#define GD_F32_BITS(x) __float_as_int(x)
#define GD_F32_UBITS(x) __float_as_uint(x)
#define GD_BITS_F32(x) __int_as_float(x)
#define GD_F64_BITS(x) __double_as_longlong(x)
#define GD_F64_UBITS(x) ((ulong)__double_as_longlong(x))
#define GD_BITS_F64(x) __longlong_as_double((long long)(x))
#define GD_NAN_F __int_as_float(0x7fc00000)
#define GD_INF_F __int_as_float(0x7f800000)
#define GD_NAN __longlong_as_double(0x7ff8000000000000LL)
#define GD_INF __longlong_as_double(0x7ff0000000000000LL)
#define GD_GROUP_IDX_X ((int)threadIdx.x)
#define GD_GROUP_IDX_Y ((int)threadIdx.y)
#define GD_GROUP_IDX_Z ((int)threadIdx.z)
#define GD_GROUP_DIM_X ((int)blockDim.x)
#define GD_GROUP_DIM_Y ((int)blockDim.y)
#define GD_GROUP_DIM_Z ((int)blockDim.z)
#define GD_GRID_IDX_X ((int)blockIdx.x)
#define GD_GRID_IDX_Y ((int)blockIdx.y)
#define GD_GRID_IDX_Z ((int)blockIdx.z)
#define GD_GRID_DIM_X ((int)gridDim.x)
#define GD_GRID_DIM_Y ((int)gridDim.y)
#define GD_GRID_DIM_Z ((int)gridDim.z)
#define GD_GLOBAL_LINEAR_ID ((long long)blockIdx.x * blockDim.x + threadIdx.x)
#define GD_GLOBAL_STRIDE ((long long)gridDim.x * blockDim.x)
#define GD_BARRIER() __syncthreads()
#define GD_FENCE_GROUP() __threadfence_block()
#define GD_FENCE_DEVICE() __threadfence()
#define GD_FENCE_SYSTEM() __threadfence_system()
// PTX float-to-integer conversions clamp to the target range and turn NaN into 0.
#define GD_F2I32(x) __float2int_rz(x)
#define GD_F2U32(x) __float2uint_rz(x)
#define GD_F2I64(x) __float2ll_rz(x)
#define GD_F2U64(x) __float2ull_rz(x)
#define GD_D2I32(x) __double2int_rz(x)
#define GD_D2U32(x) __double2uint_rz(x)
#define GD_D2I64(x) __double2ll_rz(x)
#define GD_D2U64(x) __double2ull_rz(x)
#define GD_RSQRT_F(x) rsqrtf(x)
#define GD_RSQRT(x) rsqrt(x)
#else
#error "GpuDeconv kernels compile with NVRTC or an OpenCL C compiler"
#endif

// Float8: eight lanes, each operation lane-wise and exactly rounded (fma rounds once).
#if defined(__OPENCL_VERSION__)
typedef float8 gd_f8;
#define gd_f8_splat(x) ((float8)(x))
#define gd_zero_gd_f8() ((float8)(0.0f))
#define gd_f8_load(p) vload8(0, (p))
#define gd_f8_store(v, p) vstore8((v), 0, (p))
#define gd_f8_fma(a, b, c) fma((a), (b), (c))
#define gd_f8_add(a, b) ((a) + (b))
#define gd_f8_mul(a, b) ((a) * (b))
// Vector comparisons give -1 (all bits) in true lanes, and select takes b where the mask's top bit is set.
// Above: not (c <= b), which also holds when either is NaN, and b is not NaN.
GD_FUNC gd_f8 gd_f8_select_above(gd_f8 c, gd_f8 b, gd_f8 t, gd_f8 f) { return select(f, t, ~(c <= b) & (b == b)); }
#define GD_F8_PARTIAL(space, suffix) \
GD_FUNC gd_f8 gd_f8_load_part_##suffix(const space float* p, int n) { \
    if (n >= 8) return vload8(0, p); \
    float t[8] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f }; \
    for (int i = 0; i < n; i++) t[i] = p[i]; \
    return vload8(0, t); } \
GD_FUNC void gd_f8_store_part_##suffix(gd_f8 v, space float* p, int n) { \
    if (n >= 8) { vstore8(v, 0, p); return; } \
    float t[8]; vstore8(v, 0, t); \
    for (int i = 0; i < n; i++) p[i] = t[i]; }
GD_F8_PARTIAL(__global, g)
GD_F8_PARTIAL(__local, l)
GD_F8_PARTIAL(__private, p)
// Switches: positions (whole numbers) -> origin + position*scale + lane, and back as offsets rounded to nearest.
#define GD_F8_INDICES(space, suffix) \
GD_FUNC void gd_f8_store_indices_##suffix(gd_f8 v, long origin, int scale, space long* p, int n) { \
    long8 r = (long8)(origin) + convert_long8(convert_int8(v)) * (long)scale + (long8)(0, 1, 2, 3, 4, 5, 6, 7); \
    if (n >= 8) { vstore8(r, 0, p); return; } \
    long t[8]; vstore8(r, 0, t); \
    for (int i = 0; i < n; i++) p[i] = t[i]; } \
GD_FUNC gd_f8 gd_f8_load_offsets_##suffix(const space long* p, long origin, int n) { \
    long8 first = (long8)(origin) + (long8)(0, 1, 2, 3, 4, 5, 6, 7); \
    if (n >= 8) return convert_float8(vload8(0, p) - first); \
    long t[8]; vstore8(first, 0, t); \
    for (int i = 0; i < n; i++) t[i] = p[i]; \
    return convert_float8(vload8(0, t) - first); }
GD_F8_INDICES(__global, g)
GD_F8_INDICES(__local, l)
GD_F8_INDICES(__private, p)
#else
struct gd_f8 { float v[8]; };
GD_FUNC gd_f8 gd_f8_splat(float x) { gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = x; return r; }
GD_FUNC gd_f8 gd_zero_gd_f8() { return gd_f8_splat(0.0f); }
GD_FUNC gd_f8 gd_f8_load(const float* p) { gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = p[i]; return r; }
GD_FUNC void gd_f8_store(gd_f8 v, float* p) { for (int i = 0; i < 8; i++) p[i] = v.v[i]; }
GD_FUNC gd_f8 gd_f8_fma(gd_f8 a, gd_f8 b, gd_f8 c) { gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = fmaf(a.v[i], b.v[i], c.v[i]); return r; }
GD_FUNC gd_f8 gd_f8_add(gd_f8 a, gd_f8 b) { gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = a.v[i] + b.v[i]; return r; }
GD_FUNC gd_f8 gd_f8_mul(gd_f8 a, gd_f8 b) { gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = a.v[i] * b.v[i]; return r; }
GD_FUNC gd_f8 gd_f8_select_above(gd_f8 c, gd_f8 b, gd_f8 t, gd_f8 f) {
    gd_f8 r; for (int i = 0; i < 8; i++) r.v[i] = (c.v[i] > b.v[i] || (c.v[i] != c.v[i] && b.v[i] == b.v[i])) ? t.v[i] : f.v[i]; return r; }
GD_FUNC gd_f8 gd_f8_load_part_g(const float* p, int n) { gd_f8 r = gd_f8_splat(0.0f); for (int i = 0; i < 8 && i < n; i++) r.v[i] = p[i]; return r; }
GD_FUNC void gd_f8_store_part_g(gd_f8 v, float* p, int n) { for (int i = 0; i < 8 && i < n; i++) p[i] = v.v[i]; }
GD_FUNC void gd_f8_store_indices_g(gd_f8 v, GD_I64 origin, int scale, GD_I64* p, int n) {
    for (int i = 0; i < 8 && i < n; i++) p[i] = origin + (GD_I64)(int)v.v[i] * scale + i; }
GD_FUNC gd_f8 gd_f8_load_offsets_g(const GD_I64* p, GD_I64 origin, int n) {
    gd_f8 r = gd_f8_splat(0.0f); for (int i = 0; i < 8 && i < n; i++) r.v[i] = (float)(p[i] - origin - i); return r; }
#define gd_f8_store_indices_l gd_f8_store_indices_g
#define gd_f8_store_indices_p gd_f8_store_indices_g
#define gd_f8_load_offsets_l gd_f8_load_offsets_g
#define gd_f8_load_offsets_p gd_f8_load_offsets_g
#define gd_f8_load_part_l gd_f8_load_part_g
#define gd_f8_load_part_p gd_f8_load_part_g
#define gd_f8_store_part_l gd_f8_store_part_g
#define gd_f8_store_part_p gd_f8_store_part_g
#endif

#if defined(__OPENCL_VERSION__) && defined(GD_HAS_FP64)
#define GD_D2I32(x) convert_int_sat(x)
#define GD_D2U32(x) convert_uint_sat(x)
#define GD_D2I64(x) convert_long_sat(x)
#define GD_D2U64(x) convert_ulong_sat(x)
#endif

// Index structs (Index2D/3D, LongIndex2D/3D); Index1D is int, LongIndex1D is long.
typedef struct { int X; int Y; } gd_index2;
typedef struct { int X; int Y; int Z; } gd_index3;
typedef struct { GD_I64 X; GD_I64 Y; } gd_lindex2;
typedef struct { GD_I64 X; GD_I64 Y; GD_I64 Z; } gd_lindex3;
GD_FUNC gd_index2 gd_make_index2(int x, int y) { gd_index2 r; r.X = x; r.Y = y; return r; }
GD_FUNC gd_index3 gd_make_index3(int x, int y, int z) { gd_index3 r; r.X = x; r.Y = y; r.Z = z; return r; }
GD_FUNC gd_lindex2 gd_make_lindex2(GD_I64 x, GD_I64 y) { gd_lindex2 r; r.X = x; r.Y = y; return r; }
GD_FUNC gd_lindex3 gd_make_lindex3(GD_I64 x, GD_I64 y, GD_I64 z) { gd_lindex3 r; r.X = x; r.Y = y; r.Z = z; return r; }

#define GD_GRID_INDEX gd_make_index3(GD_GRID_IDX_X, GD_GRID_IDX_Y, GD_GRID_IDX_Z)
#define GD_GRID_DIMENSION gd_make_index3(GD_GRID_DIM_X, GD_GRID_DIM_Y, GD_GRID_DIM_Z)
#define GD_GROUP_INDEX gd_make_index3(GD_GROUP_IDX_X, GD_GROUP_IDX_Y, GD_GROUP_IDX_Z)
#define GD_GROUP_DIMENSION gd_make_index3(GD_GROUP_DIM_X, GD_GROUP_DIM_Y, GD_GROUP_DIM_Z)
#define GD_GLOBAL_IDX_X (GD_GRID_IDX_X * GD_GROUP_DIM_X + GD_GROUP_IDX_X)
#define GD_GLOBAL_IDX_Y (GD_GRID_IDX_Y * GD_GROUP_DIM_Y + GD_GROUP_IDX_Y)
#define GD_GLOBAL_IDX_Z (GD_GRID_IDX_Z * GD_GROUP_DIM_Z + GD_GROUP_IDX_Z)
#define GD_GLOBAL_DIMENSION gd_make_index3(GD_GRID_DIM_X * GD_GROUP_DIM_X, GD_GRID_DIM_Y * GD_GROUP_DIM_Y, GD_GRID_DIM_Z * GD_GROUP_DIM_Z)
#define GD_GLOBAL_INDEX gd_make_index3(GD_GLOBAL_IDX_X, GD_GLOBAL_IDX_Y, GD_GLOBAL_IDX_Z)
#define GD_GROUP_SIZE (GD_GROUP_DIM_X * GD_GROUP_DIM_Y * GD_GROUP_DIM_Z)
#define GD_GROUP_LINEAR_INDEX (GD_GROUP_IDX_X + GD_GROUP_DIM_X * (GD_GROUP_IDX_Y + GD_GROUP_DIM_Y * GD_GROUP_IDX_Z))
// Grid.LinearIndex, and Grid.GlobalLinearIndex as ILGPU defines it: the group's linear index times the group size plus
// the thread's linear index in its group (threads of one group are consecutive).
#define GD_GRID_LINEAR_INDEX (GD_GRID_IDX_X + GD_GRID_DIM_X * (GD_GRID_IDX_Y + GD_GRID_DIM_Y * GD_GRID_IDX_Z))
#define GD_GLOBAL_LINEAR_INDEX (GD_GRID_LINEAR_INDEX * GD_GROUP_SIZE + GD_GROUP_LINEAR_INDEX)

// Dense 2-D/3-D view layouts (Stride2D.DenseX/DenseY, Stride3D.DenseXY/DenseZY).
GD_FUNC GD_I64 gd_offset_densex(GD_I64 x, GD_I64 y, GD_I64 ex, GD_I64 ey) { return x + y * ex; }
GD_FUNC GD_I64 gd_offset_densey(GD_I64 x, GD_I64 y, GD_I64 ex, GD_I64 ey) { return x * ey + y; }
GD_FUNC GD_I64 gd_offset_densexy(GD_I64 x, GD_I64 y, GD_I64 z, GD_I64 ex, GD_I64 ey, GD_I64 ez) { return x + ex * (y + ey * z); }
GD_FUNC GD_I64 gd_offset_densezy(GD_I64 x, GD_I64 y, GD_I64 z, GD_I64 ex, GD_I64 ey, GD_I64 ez) { return z + ez * (y + ey * x); }

// Wrapping signed arithmetic: C leaves signed overflow undefined, C# wraps.
GD_FUNC int gd_wadd_i32(int a, int b) { return (int)((uint)a + (uint)b); }
GD_FUNC int gd_wsub_i32(int a, int b) { return (int)((uint)a - (uint)b); }
GD_FUNC int gd_wmul_i32(int a, int b) { return (int)((uint)a * (uint)b); }
GD_FUNC int gd_wneg_i32(int a) { return (int)(0u - (uint)a); }
GD_FUNC int gd_shl_i32(int a, int n) { return (int)((uint)a << (n & 31)); }
GD_FUNC GD_I64 gd_wadd_i64(GD_I64 a, GD_I64 b) { return (GD_I64)((ulong)a + (ulong)b); }
GD_FUNC GD_I64 gd_wsub_i64(GD_I64 a, GD_I64 b) { return (GD_I64)((ulong)a - (ulong)b); }
GD_FUNC GD_I64 gd_wmul_i64(GD_I64 a, GD_I64 b) { return (GD_I64)((ulong)a * (ulong)b); }
GD_FUNC GD_I64 gd_wneg_i64(GD_I64 a) { return (GD_I64)((ulong)0 - (ulong)a); }
GD_FUNC GD_I64 gd_shl_i64(GD_I64 a, int n) { return (GD_I64)((ulong)a << (n & 63)); }

// Integer helpers with .NET results (Math.Abs wraps at MinValue instead of throwing).
GD_FUNC int gd_abs_i32(int a) { return a < 0 ? gd_wneg_i32(a) : a; }
GD_FUNC GD_I64 gd_abs_i64(GD_I64 a) { return a < 0 ? gd_wneg_i64(a) : a; }
#define GD_DEFINE_MINMAX(T, N) \
GD_FUNC T gd_min_##N(T a, T b) { return a < b ? a : b; } \
GD_FUNC T gd_max_##N(T a, T b) { return a > b ? a : b; } \
GD_FUNC T gd_clamp_##N(T v, T lo, T hi) { return v < lo ? lo : (v > hi ? hi : v); } \
GD_FUNC int gd_sign_##N(T v) { return v > (T)0 ? 1 : (v < (T)0 ? -1 : 0); }
GD_DEFINE_MINMAX(int, i32)
GD_DEFINE_MINMAX(uint, u32)
GD_DEFINE_MINMAX(GD_I64, i64)
GD_DEFINE_MINMAX(ulong, u64)

// Float helpers: NaN-propagating min/max that order -0 below +0, as .NET's Math.Min/Max do.
GD_FUNC bool gd_isnan_f32(float x) { return x != x; }
GD_FUNC bool gd_isinf_f32(float x) { return x == GD_INF_F || x == -GD_INF_F; }
GD_FUNC bool gd_isfinite_f32(float x) { return !gd_isnan_f32(x) && !gd_isinf_f32(x); }
GD_FUNC float gd_max_f32(float a, float b) { if (a != a) return a; if (b != b) return b; if (a == b) return GD_F32_BITS(a) < 0 ? b : a; return a > b ? a : b; }
GD_FUNC float gd_min_f32(float a, float b) { if (a != a) return a; if (b != b) return b; if (a == b) return GD_F32_BITS(a) < 0 ? a : b; return a < b ? a : b; }
GD_FUNC float gd_clamp_f32(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }
GD_FUNC int gd_sign_f32(float v) { return v > 0.0f ? 1 : (v < 0.0f ? -1 : 0); }
GD_FUNC sbyte gd_f32_to_i8(float x) { return (sbyte)GD_F2I32(x); }
GD_FUNC uchar gd_f32_to_u8(float x) { return (uchar)GD_F2I32(x); }
GD_FUNC short gd_f32_to_i16(float x) { return (short)GD_F2I32(x); }
GD_FUNC ushort gd_f32_to_u16(float x) { return (ushort)GD_F2I32(x); }
GD_FUNC int gd_f32_to_i32(float x) { return GD_F2I32(x); }
GD_FUNC uint gd_f32_to_u32(float x) { return GD_F2U32(x); }
GD_FUNC GD_I64 gd_f32_to_i64(float x) { return GD_F2I64(x); }
GD_FUNC ulong gd_f32_to_u64(float x) { return GD_F2U64(x); }

#ifdef GD_HAS_FP64
GD_FUNC bool gd_isnan_f64(double x) { return x != x; }
GD_FUNC bool gd_isinf_f64(double x) { return x == GD_INF || x == -GD_INF; }
GD_FUNC bool gd_isfinite_f64(double x) { return !gd_isnan_f64(x) && !gd_isinf_f64(x); }
GD_FUNC double gd_max_f64(double a, double b) { if (a != a) return a; if (b != b) return b; if (a == b) return GD_F64_BITS(a) < 0 ? b : a; return a > b ? a : b; }
GD_FUNC double gd_min_f64(double a, double b) { if (a != a) return a; if (b != b) return b; if (a == b) return GD_F64_BITS(a) < 0 ? a : b; return a < b ? a : b; }
GD_FUNC double gd_clamp_f64(double v, double lo, double hi) { return v < lo ? lo : (v > hi ? hi : v); }
GD_FUNC int gd_sign_f64(double v) { return v > 0.0 ? 1 : (v < 0.0 ? -1 : 0); }
GD_FUNC sbyte gd_f64_to_i8(double x) { return (sbyte)GD_D2I32(x); }
GD_FUNC uchar gd_f64_to_u8(double x) { return (uchar)GD_D2I32(x); }
GD_FUNC short gd_f64_to_i16(double x) { return (short)GD_D2I32(x); }
GD_FUNC ushort gd_f64_to_u16(double x) { return (ushort)GD_D2I32(x); }
GD_FUNC int gd_f64_to_i32(double x) { return GD_D2I32(x); }
GD_FUNC uint gd_f64_to_u32(double x) { return GD_D2U32(x); }
GD_FUNC GD_I64 gd_f64_to_i64(double x) { return GD_D2I64(x); }
GD_FUNC ulong gd_f64_to_u64(double x) { return GD_D2U64(x); }
#endif

// Atomics: gd_atomic_<op>_<type>_<space>(pointer, ...) return the old value.
// Spaces: g = global, l = local (shared). CUDA has one generic space, so both names agree there.
#if defined(__OPENCL_VERSION__)
#define GD_DEFINE_INT_ATOMICS(T, N, S, SP) \
GD_FUNC T gd_atomic_add_##N##_##S(volatile SP T* p, T v) { return atomic_add(p, v); } \
GD_FUNC T gd_atomic_sub_##N##_##S(volatile SP T* p, T v) { return atomic_sub(p, v); } \
GD_FUNC T gd_atomic_min_##N##_##S(volatile SP T* p, T v) { return atomic_min(p, v); } \
GD_FUNC T gd_atomic_max_##N##_##S(volatile SP T* p, T v) { return atomic_max(p, v); } \
GD_FUNC T gd_atomic_and_##N##_##S(volatile SP T* p, T v) { return atomic_and(p, v); } \
GD_FUNC T gd_atomic_or_##N##_##S(volatile SP T* p, T v) { return atomic_or(p, v); } \
GD_FUNC T gd_atomic_xor_##N##_##S(volatile SP T* p, T v) { return atomic_xor(p, v); } \
GD_FUNC T gd_atomic_exchange_##N##_##S(volatile SP T* p, T v) { return atomic_xchg(p, v); } \
GD_FUNC T gd_atomic_cas_##N##_##S(volatile SP T* p, T c, T v) { return atomic_cmpxchg(p, c, v); }
GD_DEFINE_INT_ATOMICS(int, i32, g, __global)
GD_DEFINE_INT_ATOMICS(uint, u32, g, __global)
GD_DEFINE_INT_ATOMICS(int, i32, l, __local)
GD_DEFINE_INT_ATOMICS(uint, u32, l, __local)
#define GD_DEFINE_F32_ATOMICS(S, SP) \
GD_FUNC float gd_atomic_cas_f32_##S(volatile SP float* p, float c, float v) { return as_float(atomic_cmpxchg((volatile SP uint*)p, as_uint(c), as_uint(v))); } \
GD_FUNC float gd_atomic_exchange_f32_##S(volatile SP float* p, float v) { return atomic_xchg(p, v); } \
GD_FUNC float gd_atomic_add_f32_##S(volatile SP float* p, float v) { uint old = as_uint(*p); for (;;) { uint seen = atomic_cmpxchg((volatile SP uint*)p, old, as_uint(as_float(old) + v)); if (seen == old) return as_float(old); old = seen; } } \
GD_FUNC float gd_atomic_min_f32_##S(volatile SP float* p, float v) { uint old = as_uint(*p); for (;;) { uint seen = atomic_cmpxchg((volatile SP uint*)p, old, as_uint(gd_min_f32(as_float(old), v))); if (seen == old) return as_float(old); old = seen; } } \
GD_FUNC float gd_atomic_max_f32_##S(volatile SP float* p, float v) { uint old = as_uint(*p); for (;;) { uint seen = atomic_cmpxchg((volatile SP uint*)p, old, as_uint(gd_max_f32(as_float(old), v))); if (seen == old) return as_float(old); old = seen; } }
GD_DEFINE_F32_ATOMICS(g, __global)
GD_DEFINE_F32_ATOMICS(l, __local)
#ifdef GD_HAS_I64_ATOMICS
#define GD_DEFINE_I64_ATOMICS(T, N, S, SP) \
GD_FUNC T gd_atomic_add_##N##_##S(volatile SP T* p, T v) { return atom_add(p, v); } \
GD_FUNC T gd_atomic_sub_##N##_##S(volatile SP T* p, T v) { return atom_sub(p, v); } \
GD_FUNC T gd_atomic_exchange_##N##_##S(volatile SP T* p, T v) { return atom_xchg(p, v); } \
GD_FUNC T gd_atomic_cas_##N##_##S(volatile SP T* p, T c, T v) { return atom_cmpxchg(p, c, v); }
GD_DEFINE_I64_ATOMICS(long, i64, g, __global)
GD_DEFINE_I64_ATOMICS(ulong, u64, g, __global)
GD_DEFINE_I64_ATOMICS(long, i64, l, __local)
GD_DEFINE_I64_ATOMICS(ulong, u64, l, __local)
#ifdef GD_HAS_FP64
#define GD_DEFINE_F64_ATOMICS(S, SP) \
GD_FUNC double gd_atomic_cas_f64_##S(volatile SP double* p, double c, double v) { return as_double(atom_cmpxchg((volatile SP ulong*)p, as_ulong(c), as_ulong(v))); } \
GD_FUNC double gd_atomic_exchange_f64_##S(volatile SP double* p, double v) { return as_double(atom_xchg((volatile SP ulong*)p, as_ulong(v))); } \
GD_FUNC double gd_atomic_add_f64_##S(volatile SP double* p, double v) { ulong old = as_ulong(*p); for (;;) { ulong seen = atom_cmpxchg((volatile SP ulong*)p, old, as_ulong(as_double(old) + v)); if (seen == old) return as_double(old); old = seen; } } \
GD_FUNC double gd_atomic_min_f64_##S(volatile SP double* p, double v) { ulong old = as_ulong(*p); for (;;) { ulong seen = atom_cmpxchg((volatile SP ulong*)p, old, as_ulong(gd_min_f64(as_double(old), v))); if (seen == old) return as_double(old); old = seen; } } \
GD_FUNC double gd_atomic_max_f64_##S(volatile SP double* p, double v) { ulong old = as_ulong(*p); for (;;) { ulong seen = atom_cmpxchg((volatile SP ulong*)p, old, as_ulong(gd_max_f64(as_double(old), v))); if (seen == old) return as_double(old); old = seen; } }
GD_DEFINE_F64_ATOMICS(g, __global)
GD_DEFINE_F64_ATOMICS(l, __local)
#endif
#endif
#ifdef GD_HAS_I64_EXT_ATOMICS
#define GD_DEFINE_I64_EXT_ATOMICS(T, N, S, SP) \
GD_FUNC T gd_atomic_min_##N##_##S(volatile SP T* p, T v) { return atom_min(p, v); } \
GD_FUNC T gd_atomic_max_##N##_##S(volatile SP T* p, T v) { return atom_max(p, v); } \
GD_FUNC T gd_atomic_and_##N##_##S(volatile SP T* p, T v) { return atom_and(p, v); } \
GD_FUNC T gd_atomic_or_##N##_##S(volatile SP T* p, T v) { return atom_or(p, v); } \
GD_FUNC T gd_atomic_xor_##N##_##S(volatile SP T* p, T v) { return atom_xor(p, v); }
GD_DEFINE_I64_EXT_ATOMICS(long, i64, g, __global)
GD_DEFINE_I64_EXT_ATOMICS(ulong, u64, g, __global)
GD_DEFINE_I64_EXT_ATOMICS(long, i64, l, __local)
GD_DEFINE_I64_EXT_ATOMICS(ulong, u64, l, __local)
#endif
// Group.BarrierPopCount on OpenCL 1.2: a counter in local memory hoisted into the kernel.
GD_FUNC int gd_barrier_popcount(volatile __local int* slot, bool predicate)
{
    barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);
    if (GD_GROUP_LINEAR_INDEX == 0) *slot = 0;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (predicate) atomic_inc(slot);
    barrier(CLK_LOCAL_MEM_FENCE);
    int count = *slot;
    barrier(CLK_LOCAL_MEM_FENCE);
    return count;
}
#else
#define GD_DEFINE_CUDA_INT_ATOMICS(T, N, CT) \
GD_FUNC T gd_atomic_add_##N##_g(T* p, T v) { return (T)atomicAdd((CT*)p, (CT)v); } \
GD_FUNC T gd_atomic_sub_##N##_g(T* p, T v) { return (T)atomicAdd((CT*)p, (CT)0 - (CT)v); } \
GD_FUNC T gd_atomic_and_##N##_g(T* p, T v) { return (T)atomicAnd((CT*)p, (CT)v); } \
GD_FUNC T gd_atomic_or_##N##_g(T* p, T v) { return (T)atomicOr((CT*)p, (CT)v); } \
GD_FUNC T gd_atomic_xor_##N##_g(T* p, T v) { return (T)atomicXor((CT*)p, (CT)v); } \
GD_FUNC T gd_atomic_exchange_##N##_g(T* p, T v) { return (T)atomicExch((CT*)p, (CT)v); } \
GD_FUNC T gd_atomic_cas_##N##_g(T* p, T c, T v) { return (T)atomicCAS((CT*)p, (CT)c, (CT)v); }
GD_DEFINE_CUDA_INT_ATOMICS(int, i32, int)
GD_DEFINE_CUDA_INT_ATOMICS(uint, u32, unsigned int)
GD_DEFINE_CUDA_INT_ATOMICS(long long, i64, unsigned long long)
GD_DEFINE_CUDA_INT_ATOMICS(ulong, u64, unsigned long long)
GD_FUNC int gd_atomic_min_i32_g(int* p, int v) { return atomicMin(p, v); }
GD_FUNC int gd_atomic_max_i32_g(int* p, int v) { return atomicMax(p, v); }
GD_FUNC uint gd_atomic_min_u32_g(uint* p, uint v) { return atomicMin(p, v); }
GD_FUNC uint gd_atomic_max_u32_g(uint* p, uint v) { return atomicMax(p, v); }
GD_FUNC long long gd_atomic_min_i64_g(long long* p, long long v) { return atomicMin(p, v); }
GD_FUNC long long gd_atomic_max_i64_g(long long* p, long long v) { return atomicMax(p, v); }
GD_FUNC ulong gd_atomic_min_u64_g(ulong* p, ulong v) { return atomicMin(p, v); }
GD_FUNC ulong gd_atomic_max_u64_g(ulong* p, ulong v) { return atomicMax(p, v); }
GD_FUNC float gd_atomic_add_f32_g(float* p, float v) { return atomicAdd(p, v); }
GD_FUNC float gd_atomic_exchange_f32_g(float* p, float v) { return atomicExch(p, v); }
GD_FUNC float gd_atomic_cas_f32_g(float* p, float c, float v) { return __uint_as_float(atomicCAS((unsigned int*)p, __float_as_uint(c), __float_as_uint(v))); }
GD_FUNC float gd_atomic_min_f32_g(float* p, float v) { unsigned int old = __float_as_uint(*p); for (;;) { unsigned int seen = atomicCAS((unsigned int*)p, old, __float_as_uint(gd_min_f32(__uint_as_float(old), v))); if (seen == old) return __uint_as_float(old); old = seen; } }
GD_FUNC float gd_atomic_max_f32_g(float* p, float v) { unsigned int old = __float_as_uint(*p); for (;;) { unsigned int seen = atomicCAS((unsigned int*)p, old, __float_as_uint(gd_max_f32(__uint_as_float(old), v))); if (seen == old) return __uint_as_float(old); old = seen; } }
GD_FUNC double gd_atomic_cas_f64_g(double* p, double c, double v) { return __longlong_as_double((long long)atomicCAS((unsigned long long*)p, (unsigned long long)__double_as_longlong(c), (unsigned long long)__double_as_longlong(v))); }
GD_FUNC double gd_atomic_exchange_f64_g(double* p, double v) { return __longlong_as_double((long long)atomicExch((unsigned long long*)p, (unsigned long long)__double_as_longlong(v))); }
#define GD_DEFINE_CUDA_F64_CAS(NAME, EXPR) \
GD_FUNC double NAME(double* p, double v) { unsigned long long old = (unsigned long long)__double_as_longlong(*p); for (;;) { double o = __longlong_as_double((long long)old); unsigned long long seen = atomicCAS((unsigned long long*)p, old, (unsigned long long)__double_as_longlong(EXPR)); if (seen == old) return o; old = seen; } }
GD_DEFINE_CUDA_F64_CAS(gd_atomic_add_f64_g, o + v)
GD_DEFINE_CUDA_F64_CAS(gd_atomic_min_f64_g, gd_min_f64(o, v))
GD_DEFINE_CUDA_F64_CAS(gd_atomic_max_f64_g, gd_max_f64(o, v))
#endif
// ---- end of prelude ----
