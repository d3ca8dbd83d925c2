#include <libisoburn/xorriso.h>
