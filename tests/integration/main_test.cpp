#define BOOST_TEST_MODULE spamguard_integration
#include <boost/test/unit_test.hpp>
