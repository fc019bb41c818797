// Only the header matters: this file exists because SwiftPM needs a source file in every C target.
#include "CFuzzerDriver.h"
