#define BOOST_TEST_MODULE spamguard_unit
#include <boost/test/unit_test.hpp>
