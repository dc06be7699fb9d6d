#include "embedkit/cuda/device.hpp"

#include <cuda_runtime.h>

#include <utility>

#include "cuda/launch.hpp"

namespace embedkit::cuda {

namespace detail {

void check_status(int status, const char* what) {
  if (status != 0) {
    const auto err = static_cast<cudaError_t>(status);
    throw CudaError(std::string(what) + ": " + cudaGetErrorName(err) + " (" +
                    cudaGetErrorString(err) + ")");
  }
}

void check_launch(const char* what) {
  check_status(cudaGetLastError(), what);
}

}  // namespace detail

using detail::check_status;

DeviceStatus device_status() {
  DeviceStatus s;
  const cudaError_t err = cudaGetDeviceCount(&s.count);
  if (err != cudaSuccess) {
    s.count = 0;
    s.reason = std::string(cudaGetErrorName(err)) + ": " + cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky-free error so later calls report their own
  } else if (s.count == 0) {
    s.reason = "the CUDA runtime reports no device";
  }
  return s;
}

void synchronize() {
  check_status(cudaDeviceSynchronize(), "synchronize");
}

void copy_device_to_device(void* dst, const void* src, std::size_t bytes) {
  if (bytes == 0) return;
  check_status(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice), "copy device to device");
}

DeviceBuffer::DeviceBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  check_status(cudaMalloc(&data_, bytes),
               ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) cudaFree(data_);  // errors at exit (runtime unloading) are ignored
}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) cudaFree(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PinnedBuffer::PinnedBuffer(std::size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  check_status(cudaHostAlloc(&host_, bytes, cudaHostAllocMapped),
               ("cudaHostAlloc of " + std::to_string(bytes) + " bytes").c_str());
  const cudaError_t err = cudaHostGetDevicePointer(&device_, host_, 0);
  if (err != cudaSuccess) {
    cudaFreeHost(host_);
    host_ = nullptr;
    check_status(err, "cudaHostGetDevicePointer");
  }
}

PinnedBuffer::~PinnedBuffer() {
  if (host_ != nullptr) cudaFreeHost(host_);
}

PinnedBuffer::PinnedBuffer(PinnedBuffer&& other) noexcept
    : host_(std::exchange(other.host_, nullptr)),
      device_(std::exchange(other.device_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& other) noexcept {
  if (this != &other) {
    if (host_ != nullptr) cudaFreeHost(host_);
    host_ = std::exchange(other.host_, nullptr);
    device_ = std::exchange(other.device_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceTensor DeviceTensor::empty(const Shape& shape, DType dtype) {
  DeviceTensor t;
  t.numel_ = shape_numel(shape);
  t.shape_ = shape;
  t.dtype_ = dtype;
  t.buffer_ =
      std::make_shared<DeviceBuffer>(static_cast<std::size_t>(t.numel_) * dtype_size(dtype));
  return t;
}

DeviceTensor DeviceTensor::zeros(const Shape& shape, DType dtype) {
  DeviceTensor t = empty(shape, dtype);
  if (t.nbytes() > 0) check_status(cudaMemset(t.raw_data(), 0, t.nbytes()), "cudaMemset");
  return t;
}

DeviceTensor DeviceTensor::to_device(const Tensor& host) {
  if (!host.defined()) throw ValueError("to_device: the host tensor is undefined");
  DeviceTensor t = empty(host.shape(), host.dtype());
  t.copy_from_host(host);
  return t;
}

void DeviceTensor::copy_from_host(const Tensor& host) {
  if (!defined() || !host.defined() || host.shape() != shape_ || host.dtype() != dtype_) {
    throw ValueError("copy_from_host: expected a " + std::string(dtype_name(dtype_)) +
                     " tensor of shape " + shape_string(shape_));
  }
  if (nbytes() == 0) return;
  check_status(cudaMemcpy(raw_data(), host.raw_data(), nbytes(), cudaMemcpyHostToDevice),
               "copy host to device");
}

Tensor DeviceTensor::to_host() const {
  if (!defined()) throw ValueError("to_host: the device tensor is undefined");
  Tensor t = Tensor::empty(shape_, dtype_);
  if (nbytes() > 0) {
    check_status(cudaMemcpy(t.raw_data(), raw_data(), nbytes(), cudaMemcpyDeviceToHost),
                 "copy device to host");
  }
  return t;
}

std::int64_t DeviceTensor::size(std::int64_t d) const {
  const std::int64_t rank = dim();
  const std::int64_t k = d < 0 ? d + rank : d;
  if (k < 0 || k >= rank) {
    throw ValueError("size: dimension " + std::to_string(d) + " out of range for shape " +
                     shape_string(shape_));
  }
  return shape_[static_cast<std::size_t>(k)];
}

DeviceTensor DeviceTensor::reshape(const Shape& shape) const {
  if (shape_numel(shape) != numel_) {
    throw ValueError("reshape: shape " + shape_string(shape) + " does not hold the " +
                     std::to_string(numel_) + " elements of " + shape_string(shape_));
  }
  DeviceTensor t = *this;
  t.shape_ = shape;
  return t;
}

}  // namespace embedkit::cuda
