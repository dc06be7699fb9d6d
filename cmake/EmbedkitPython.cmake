# Finds Python and pybind11 (Debian: python3-dev, pybind11-dev) and builds the Python module
# (python/CMakeLists.txt); sets EMBEDKIT_HAVE_PYTHON. EMBEDKIT_PYTHON=ON makes a missing
# dependency an error, AUTO a warning.
#
# The interpreter is the system's (/usr/bin/python3 on Debian) unless Python3_EXECUTABLE says
# otherwise: the module is built for the Python whose torch, gensim and fastText the tests
# compare with, not for whichever `python3` a version manager puts first on the PATH.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 3.9 COMPONENTS Interpreter Development.Module NumPy QUIET)
set(PYBIND11_FINDPYTHON ON)
find_package(pybind11 2.6 CONFIG QUIET)
if(Python3_FOUND AND Python3_NumPy_FOUND AND pybind11_FOUND)
  set(EMBEDKIT_HAVE_PYTHON ON)
  add_subdirectory(python)
elseif(EMBEDKIT_PYTHON STREQUAL "ON")
  message(FATAL_ERROR "EMBEDKIT_PYTHON=ON but Python 3 (with NumPy) or pybind11 was not found "
                      "(apt-get install python3-dev python3-numpy pybind11-dev)")
else()
  message(WARNING "Python 3 (with NumPy) or pybind11 not found: the Python module is not built")
endif()
