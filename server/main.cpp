#include <iostream>

int main() {
    std::cout << "gslbd " << GSLBD_VERSION << '\n';
    return 0;
}
