// The CUDA backend's memory: device buffers, device tensors and explicit transfers.
//
// Nothing here includes a CUDA header, so code using the backend builds with any C++ compiler;
// the library (embedkit_cuda, built when CMake finds nvcc) links the CUDA runtime statically and
// runs on machines without a GPU or driver: device_status() then says why there is no device and
// every allocation raises CudaError. See docs/gpu.md.
//
//   cuda::DeviceTensor w = cuda::DeviceTensor::to_device(table);     // host -> device copy
//   cuda::DeviceTensor out = cuda::embedding(ids_dev, w);             // kernels on the device
//   Tensor host = out.to_host();                                      // device -> host copy
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "embedkit/core/error.hpp"
#include "embedkit/core/tensor.hpp"

namespace embedkit::cuda {

// A CUDA runtime call failed (no device, out of memory, a kernel fault). The message names the
// operation and the runtime's error string.
class CudaError : public Error {
 public:
  explicit CudaError(const std::string& what) : Error(what) {}
};

struct DeviceStatus {
  int count = 0;       // usable CUDA devices
  std::string reason;  // why there is none (empty when count > 0)
  bool available() const { return count > 0; }
};

// Never throws: a machine without a driver or GPU gives count 0 and the runtime's reason.
DeviceStatus device_status();

// Waits for all work queued on the current device; raises CudaError if a kernel failed.
void synchronize();

// cudaMemcpy between two device buffers (waits for it).
void copy_device_to_device(void* dst, const void* src, std::size_t bytes);

// Owns `bytes` of device memory (cudaMalloc); move-only.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(std::size_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

// Owns `bytes` of page-locked host memory, mapped into the device's address space
// (cudaHostAlloc with cudaHostAllocMapped): kernels read it over the bus without a copy.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(std::size_t bytes);
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  void* host() const { return host_; }
  void* device() const { return device_; }  // the same memory as the device sees it
  std::size_t size() const { return size_; }

 private:
  void* host_ = nullptr;
  void* device_ = nullptr;
  std::size_t size_ = 0;
};

// A dense row-major tensor in device memory. Copies share the buffer (as Tensor's do).
class DeviceTensor {
 public:
  DeviceTensor() = default;  // undefined: "not given"

  static DeviceTensor empty(const Shape& shape, DType dtype = DType::Float32);
  static DeviceTensor zeros(const Shape& shape, DType dtype = DType::Float32);
  // A device copy of a host tensor (waits for the copy).
  static DeviceTensor to_device(const Tensor& host);
  // A host copy (waits for queued kernels, then copies).
  Tensor to_host() const;
  // Overwrites the contents from a host tensor of the same shape and dtype.
  void copy_from_host(const Tensor& host);

  bool defined() const { return buffer_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  std::int64_t dim() const { return static_cast<std::int64_t>(shape_.size()); }
  std::int64_t size(std::int64_t d) const;
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  // Given or not, dtype and shape, for the checks every backend shares (a view: see TensorDesc).
  TensorDesc desc() const { return defined() ? TensorDesc(dtype_, shape_) : TensorDesc(); }
  void* raw_data() const { return buffer_ ? buffer_->data() : nullptr; }
  // Same buffer, new shape (numel must match).
  DeviceTensor reshape(const Shape& shape) const;

 private:
  std::shared_ptr<DeviceBuffer> buffer_;
  Shape shape_;
  std::int64_t numel_ = 0;
  DType dtype_ = DType::Float32;
};

}  // namespace embedkit::cuda
