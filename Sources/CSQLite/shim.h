#ifndef SEGMENTER_CSQLITE_SHIM_H
#define SEGMENTER_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
