// Boost.JSON compiled into kite-cni itself (the library's header-only mode): the program links
// statically and needs no libboost_json on the node, whatever the build.
#include <boost/json/src.hpp>
