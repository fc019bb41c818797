// oneDNN (Debian's libdnnl-dev, 2.x or 3.x). It ships no pkg-config file: headers come from the default
// include path and the library is linked by name.
#include <oneapi/dnnl/dnnl.h>
