#ifndef P2PM_VERSION_H
#define P2PM_VERSION_H
#define P2PM_VERSION "0.1.0"
#endif
