// Typed-array entry points for faiss-node's index classes, compiled into the addon by
// scripts/install-faiss-node.mjs when it builds faiss-node from source.
//
// Why: faiss-node's add/train/search take plain JS arrays and read every float through
// its own V8 handle, which capped bulk adds at about 10,000 512-d vectors/s. These
// methods read a Float32Array's memory in place and hand it straight to faiss:
//   addBuffer(Float32Array)                 add rows laid end to end
//   addBufferAsync(Float32Array)            the same on a libuv worker thread; returns a Promise
//                                           that rejects with faiss's message when faiss throws.
//                                           The caller must not touch the index until it settles
//                                           (faiss is not thread-safe for add beside other calls)
//   trainBuffer(Float32Array)               train on rows laid end to end
//   searchBuffer(Float32Array, k)           nq queries at once; returns
//                                           { distances: Float32Array, labels: Float64Array }
//                                           of nq * k entries, padded with label -1
//   setParameter(name, value)               a search/build parameter through faiss::ParameterSpace,
//                                           which reaches through IndexPreTransform (OPQ...), IDMap,
//                                           IndexRefine, and HNSW over any storage (SQ8, PQ)
//   getParameter(name)                      nprobe, nlist, efSearch or efConstruction wherever
//                                           setParameter would find it; null when the index has none
// and on the module:
//   setNumThreads(n), getNumThreads()       OpenMP threads faiss uses (building, training, batch search)
//
// faiss-node's own source is left untouched: this file includes it, keeps its module
// registration from running, and registers an init function that calls faiss-node's
// and then adds these methods to each class's prototype.
#include <napi.h>

#pragma push_macro("NODE_API_MODULE")
#undef NODE_API_MODULE
#define NODE_API_MODULE(modname, regfunc)
#include "faiss.cc"
#pragma pop_macro("NODE_API_MODULE")

#include <faiss/AutoTune.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <omp.h>

#include <cmath>
#include <string>
#include <vector>

namespace buffer_methods {

// Bumped when these methods change, so that the install script rebuilds older addons.
constexpr uint32_t VERSION = 3;

// The wrapped faiss index of a faiss-node object. `index_` is protected in faiss-node's
// IndexBase; a member pointer taken through a derived class reads it without editing
// faiss-node's source.
template <class T>
struct Access : T
{
  static constexpr auto member = &Access::index_;
};

template <class T>
faiss::Index *nativeIndex(const Napi::CallbackInfo &info)
{
  Napi::Value self = info.This();
  if (!self.IsObject())
    throw Napi::TypeError::New(info.Env(), "must be called on a faiss-node index");
  T *wrapped = Napi::ObjectWrap<T>::Unwrap(self.As<Napi::Object>());
  if (wrapped == nullptr || !(wrapped->*Access<T>::member))
    throw Napi::Error::New(info.Env(), "the faiss-node index is not initialised");
  return (wrapped->*Access<T>::member).get();
}

// Argument `i` as a Float32Array holding whole rows of `d` floats; returns the row count.
size_t floatRows(const Napi::CallbackInfo &info, size_t i, int64_t d, const char *what, Napi::Float32Array &out)
{
  Napi::Env env = info.Env();
  if (info.Length() <= i || !info[i].IsTypedArray() ||
      info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, std::string(what) + " must be a Float32Array");
  out = info[i].As<Napi::Float32Array>();
  if (d <= 0 || out.ElementLength() % static_cast<size_t>(d) != 0)
    throw Napi::Error::New(env, std::string(what) + " has " + std::to_string(out.ElementLength()) +
                                    " floats, not a whole number of rows of " + std::to_string(d));
  return out.ElementLength() / static_cast<size_t>(d);
}

// faiss reports bad calls by throwing; pass them on as JS errors.
template <class F>
void callFaiss(Napi::Env env, F &&call)
{
  try
  {
    call();
  }
  catch (const std::exception &error)
  {
    throw Napi::Error::New(env, error.what());
  }
}

template <class T>
Napi::Value addBuffer(const Napi::CallbackInfo &info)
{
  faiss::Index *index = nativeIndex<T>(info);
  Napi::Float32Array rows;
  size_t n = floatRows(info, 0, index->d, "addBuffer's vectors", rows);
  if (n > 0)
    callFaiss(info.Env(), [&] { index->add(static_cast<faiss::idx_t>(n), rows.Data()); });
  return info.Env().Undefined();
}

// faiss's add of rows that persistent references keep alive, with the index object that owns
// the faiss index (GC cannot free either mid-add),
// run on the libuv thread pool so the event loop (and JS packing the next rows) runs meanwhile.
class AddWorker : public Napi::AsyncWorker
{
public:
  AddWorker(Napi::Env env, Napi::Object owner, faiss::Index *index, Napi::Float32Array rows, size_t n, int threads)
      : Napi::AsyncWorker(env, "faiss-node addBufferAsync"), deferred_(Napi::Promise::Deferred::New(env)),
        index_(index), data_(rows.Data()), n_(n), threads_(threads)
  {
    owner_ = Napi::Persistent(owner);
    rows_ = Napi::Persistent(rows);
  }

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override
  {
    // OpenMP's thread count belongs to the calling thread: this worker gets the caller's.
    omp_set_num_threads(threads_);
    try
    {
      index_->add(static_cast<faiss::idx_t>(n_), data_);
    }
    catch (const std::exception &error)
    {
      SetError(error.what());
    }
  }

  void OnOK() override { deferred_.Resolve(Env().Undefined()); }

  void OnError(const Napi::Error &error) override { deferred_.Reject(error.Value()); }

private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference owner_;
  faiss::Index *index_;
  Napi::Reference<Napi::Float32Array> rows_;
  const float *data_;
  size_t n_;
  int threads_;
};

template <class T>
Napi::Value addBufferAsync(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  faiss::Index *index = nativeIndex<T>(info);
  Napi::Float32Array rows;
  size_t n = floatRows(info, 0, index->d, "addBufferAsync's vectors", rows);
  auto *worker = new AddWorker(env, info.This().As<Napi::Object>(), index, rows, n, omp_get_max_threads());
  Napi::Promise promise = worker->Promise();
  worker->Queue(); // deletes itself once settled
  return promise;
}

template <class T>
Napi::Value trainBuffer(const Napi::CallbackInfo &info)
{
  faiss::Index *index = nativeIndex<T>(info);
  Napi::Float32Array rows;
  size_t n = floatRows(info, 0, index->d, "trainBuffer's vectors", rows);
  callFaiss(info.Env(), [&] { index->train(static_cast<faiss::idx_t>(n), rows.Data()); });
  return info.Env().Undefined();
}

template <class T>
Napi::Value searchBuffer(const Napi::CallbackInfo &info)
{
  Napi::Env env = info.Env();
  faiss::Index *index = nativeIndex<T>(info);
  Napi::Float32Array queries;
  size_t nq = floatRows(info, 0, index->d, "searchBuffer's queries", queries);
  if (info.Length() < 2 || !info[1].IsNumber())
    throw Napi::TypeError::New(env, "searchBuffer's k must be a number");
  double kValue = info[1].As<Napi::Number>().DoubleValue();
  if (!(kValue >= 1) || kValue != static_cast<double>(static_cast<int64_t>(kValue)) || kValue > 1e6)
    throw Napi::RangeError::New(env, "searchBuffer's k must be a whole number from 1 to 1000000");
  size_t k = static_cast<size_t>(kValue);

  Napi::Float32Array distances = Napi::Float32Array::New(env, nq * k);
  std::vector<faiss::idx_t> ids(nq * k);
  if (nq > 0)
    callFaiss(env, [&] {
      index->search(static_cast<faiss::idx_t>(nq), queries.Data(), static_cast<faiss::idx_t>(k), distances.Data(),
                    ids.data());
    });
  // Float64Array: exact for every position below 2^53, and plain numbers in JS.
  Napi::Float64Array labels = Napi::Float64Array::New(env, nq * k);
  double *out = labels.Data();
  for (size_t i = 0; i < ids.size(); i++)
    out[i] = static_cast<double>(ids[i]);

  Napi::Object result = Napi::Object::New(env);
  result.Set("distances", distances);
  result.Set("labels", labels);
  return result;
}

// Argument `i` as a string, or a TypeError naming `what`.
std::string stringArgument(const Napi::CallbackInfo &info, size_t i, const char *what)
{
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

// Argument `i` as a finite number, or a TypeError naming `what`.
double numberArgument(const Napi::CallbackInfo &info, size_t i, const char *what)
{
  if (info.Length() <= i || !info[i].IsNumber() || !std::isfinite(info[i].As<Napi::Number>().DoubleValue()))
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a finite number");
  return info[i].As<Napi::Number>().DoubleValue();
}

template <class T>
Napi::Value setParameter(const Napi::CallbackInfo &info)
{
  faiss::Index *index = nativeIndex<T>(info);
  std::string name = stringArgument(info, 0, "setParameter's name");
  double value = numberArgument(info, 1, "setParameter's value");
  callFaiss(info.Env(), [&] { faiss::ParameterSpace().set_index_parameter(index, name, value); });
  return info.Env().Undefined();
}

// The index a parameter lives in, looking through the wrappers ParameterSpace looks through.
faiss::Index *unwrapped(faiss::Index *index)
{
  for (;;)
  {
    if (auto *idmap = dynamic_cast<faiss::IndexIDMap *>(index))
      index = idmap->index;
    else if (auto *pretransform = dynamic_cast<faiss::IndexPreTransform *>(index))
      index = pretransform->index;
    else if (auto *refine = dynamic_cast<faiss::IndexRefine *>(index))
      index = refine->base_index;
    else
      return index;
  }
}

// The value of `name` where ParameterSpace would set it; NAN when the index has no such parameter.
double readParameter(faiss::Index *wrapped, const std::string &name)
{
  faiss::Index *index = unwrapped(wrapped);
  auto *ivf = dynamic_cast<faiss::IndexIVF *>(index);
  if (ivf && name == "nprobe")
    return static_cast<double>(ivf->nprobe);
  if (ivf && name == "nlist")
    return static_cast<double>(ivf->nlist);
  auto *hnsw = dynamic_cast<faiss::IndexHNSW *>(index);
  if (!hnsw && ivf)
    hnsw = dynamic_cast<faiss::IndexHNSW *>(ivf->quantizer); // "IVF<n>_HNSW32": HNSW finds the lists
  if (hnsw && name == "efSearch")
    return hnsw->hnsw.efSearch;
  if (hnsw && name == "efConstruction")
    return hnsw->hnsw.efConstruction;
  return NAN;
}

template <class T>
Napi::Value getParameter(const Napi::CallbackInfo &info)
{
  faiss::Index *index = nativeIndex<T>(info);
  double value = readParameter(index, stringArgument(info, 0, "getParameter's name"));
  return std::isnan(value) ? info.Env().Null() : Napi::Number::New(info.Env(), value);
}

Napi::Value setNumThreads(const Napi::CallbackInfo &info)
{
  double n = numberArgument(info, 0, "setNumThreads's count");
  if (n < 1 || n > 4096 || n != static_cast<double>(static_cast<int>(n)))
    throw Napi::RangeError::New(info.Env(), "setNumThreads's count must be a whole number from 1 to 4096");
  omp_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

Napi::Value getNumThreads(const Napi::CallbackInfo &info)
{
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

template <class T>
void addTo(Napi::Env env, Napi::Object exports)
{
  Napi::Object prototype = exports.Get(T::CLASS_NAME).template As<Napi::Object>().Get("prototype").template As<Napi::Object>();
  prototype.Set("addBuffer", Napi::Function::New(env, addBuffer<T>, "addBuffer"));
  prototype.Set("addBufferAsync", Napi::Function::New(env, addBufferAsync<T>, "addBufferAsync"));
  prototype.Set("trainBuffer", Napi::Function::New(env, trainBuffer<T>, "trainBuffer"));
  prototype.Set("searchBuffer", Napi::Function::New(env, searchBuffer<T>, "searchBuffer"));
  prototype.Set("setParameter", Napi::Function::New(env, setParameter<T>, "setParameter"));
  prototype.Set("getParameter", Napi::Function::New(env, getParameter<T>, "getParameter"));
}

Napi::Object init(Napi::Env env, Napi::Object exports)
{
  Init(env, exports); // faiss-node's own
  addTo<Index>(env, exports);
  addTo<IndexFlatL2>(env, exports);
  addTo<IndexFlatIP>(env, exports);
  exports.Set("setNumThreads", Napi::Function::New(env, setNumThreads, "setNumThreads"));
  exports.Set("getNumThreads", Napi::Function::New(env, getNumThreads, "getNumThreads"));
  exports.Set("bufferMethodsVersion", Napi::Number::New(env, VERSION));
  return exports;
}

} // namespace buffer_methods

Napi::Object InitWithBufferMethods(Napi::Env env, Napi::Object exports)
{
  return buffer_methods::init(env, exports);
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitWithBufferMethods)
